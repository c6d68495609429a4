package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;
import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.Arrays;
import java.util.Objects;

/**
 * Drops a lease. Sent as the {@code data} of a {@link SignedPayload} signed by the lease's own key.
 *
 * @param identity the identity whose lease is dropped; null when absent
 * @param nonce random bytes that make each signed request unique
 * @param timestamp creation time, Unix seconds
 */
public record LeaseDeleteRequest(Identity identity, byte[] nonce, long timestamp) implements ProtoMessage {

  public LeaseDeleteRequest {
    nonce = nonce == null ? new byte[0] : nonce.clone();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().message(1, identity).bytes(2, nonce).varint(3, timestamp).toByteArray();
  }

  /** Decodes a LeaseDeleteRequest. */
  public static LeaseDeleteRequest decode(byte[] bytes) throws WireFormatException {
    Identity identity = null;
    byte[] nonce = new byte[0];
    long timestamp = 0;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> identity = Identity.decode(r.readBytes());
        case 2 << 3 | LEN -> nonce = r.readBytes();
        case 3 << 3 | VARINT -> timestamp = r.readVarint();
        default -> r.skip();
      }
    }
    return new LeaseDeleteRequest(identity, nonce, timestamp);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LeaseDeleteRequest other
        && Objects.equals(identity, other.identity)
        && Arrays.equals(nonce, other.nonce)
        && timestamp == other.timestamp;
  }

  @Override
  public int hashCode() {
    return Objects.hash(identity, Arrays.hashCode(nonce), timestamp);
  }

  @Override
  public String toString() {
    return "LeaseDeleteRequest[identity=" + identity + ", nonce=" + nonce.length + " bytes, timestamp=" + timestamp + "]";
  }
}
