package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;
import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The E2EE handshake message. The Go protocol has {@code ClientInitPayload} and
 * {@code ServerInitPayload}; they have the same fields and numbers, so one record serves both.
 *
 * @param version          protocol version, {@link #VERSION_1} (= 0)
 * @param nonce            12 random bytes, used as HKDF salt material
 * @param timestamp        creation time, Unix seconds
 * @param identity         the sender's identity; null when absent
 * @param alpn             the application protocol
 * @param sessionPublicKey the sender's ephemeral raw 32-byte X25519 public key
 */
public record InitPayload(int version, byte[] nonce, long timestamp, Identity identity, String alpn,
    byte[] sessionPublicKey) implements ProtoMessage {

  /** The only protocol version, V1, whose wire value is 0. */
  public static final int VERSION_1 = 0;

  public InitPayload {
    Objects.requireNonNull(alpn, "alpn");
    nonce = nonce == null ? new byte[0] : nonce.clone();
    sessionPublicKey = sessionPublicKey == null ? new byte[0] : sessionPublicKey.clone();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] sessionPublicKey() {
    return sessionPublicKey.clone();
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter()
        .varint(1, version)
        .bytes(2, nonce)
        .varint(3, timestamp)
        .message(4, identity)
        .string(5, alpn)
        .bytes(6, sessionPublicKey)
        .toByteArray();
  }

  /** Decodes a ClientInitPayload or ServerInitPayload. */
  public static InitPayload decode(byte[] bytes) throws WireFormatException {
    int version = 0;
    byte[] nonce = new byte[0];
    long timestamp = 0;
    Identity identity = null;
    String alpn = "";
    byte[] sessionPublicKey = new byte[0];
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | VARINT -> version = r.readEnum();
        case 2 << 3 | LEN -> nonce = r.readBytes();
        case 3 << 3 | VARINT -> timestamp = r.readVarint();
        case 4 << 3 | LEN -> identity = Identity.decode(r.readBytes());
        case 5 << 3 | LEN -> alpn = r.readString();
        case 6 << 3 | LEN -> sessionPublicKey = r.readBytes();
        default -> r.skip();
      }
    }
    return new InitPayload(version, nonce, timestamp, identity, alpn, sessionPublicKey);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InitPayload other
        && version == other.version
        && Arrays.equals(nonce, other.nonce)
        && timestamp == other.timestamp
        && Objects.equals(identity, other.identity)
        && alpn.equals(other.alpn)
        && Arrays.equals(sessionPublicKey, other.sessionPublicKey);
  }

  @Override
  public int hashCode() {
    return Objects.hash(version, Arrays.hashCode(nonce), timestamp, identity, alpn,
        Arrays.hashCode(sessionPublicKey));
  }

  @Override
  public String toString() {
    HexFormat hex = HexFormat.of();
    return "InitPayload[version=" + version + ", nonce=" + hex.formatHex(nonce) + ", timestamp=" + timestamp
        + ", identity=" + identity + ", alpn=" + alpn + ", sessionPublicKey="
        + hex.formatHex(sessionPublicKey) + "]";
  }
}
