package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;

import java.util.Arrays;

/**
 * An encoded message together with an Ed25519 signature over exactly those bytes. Verifiers must
 * check the signature against {@code data} as received, never against a re-encoding.
 *
 * @param data      the encoded inner message
 * @param signature the 64-byte Ed25519 signature over {@code data}
 */
public record SignedPayload(byte[] data, byte[] signature) implements ProtoMessage {

  public SignedPayload {
    data = data == null ? new byte[0] : data.clone();
    signature = signature == null ? new byte[0] : signature.clone();
  }

  @Override
  public byte[] data() {
    return data.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().bytes(1, data).bytes(2, signature).toByteArray();
  }

  /** Decodes a SignedPayload. */
  public static SignedPayload decode(byte[] bytes) throws WireFormatException {
    byte[] data = new byte[0];
    byte[] signature = new byte[0];
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> data = r.readBytes();
        case 2 << 3 | LEN -> signature = r.readBytes();
        default -> r.skip();
      }
    }
    return new SignedPayload(data, signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedPayload other
        && Arrays.equals(data, other.data)
        && Arrays.equals(signature, other.signature);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(data) + Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "SignedPayload[data=" + data.length + " bytes, signature=" + signature.length + " bytes]";
  }
}
