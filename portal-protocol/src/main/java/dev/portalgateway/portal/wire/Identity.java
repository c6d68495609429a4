package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A peer's identity: its ID (derived from the key) and its raw 32-byte Ed25519 public key.
 * Decoding does not validate; see {@code PortalIds.isValid}.
 *
 * @param id        the 26-character ID; empty when absent
 * @param publicKey the raw Ed25519 public key; empty when absent
 */
public record Identity(String id, byte[] publicKey) implements ProtoMessage {

  public Identity {
    Objects.requireNonNull(id, "id");
    publicKey = publicKey == null ? new byte[0] : publicKey.clone();
  }

  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().string(1, id).bytes(2, publicKey).toByteArray();
  }

  /** Decodes an Identity message. */
  public static Identity decode(byte[] bytes) throws WireFormatException {
    String id = "";
    byte[] publicKey = new byte[0];
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> id = r.readString();
        case 2 << 3 | LEN -> publicKey = r.readBytes();
        default -> r.skip();
      }
    }
    return new Identity(id, publicKey);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Identity other && id.equals(other.id) && Arrays.equals(publicKey, other.publicKey);
  }

  @Override
  public int hashCode() {
    return 31 * id.hashCode() + Arrays.hashCode(publicKey);
  }

  @Override
  public String toString() {
    return "Identity[id=" + id + ", publicKey=" + HexFormat.of().formatHex(publicKey) + "]";
  }
}
