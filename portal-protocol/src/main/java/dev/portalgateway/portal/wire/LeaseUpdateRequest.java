package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;
import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.Arrays;
import java.util.Objects;

/**
 * Registers or refreshes a lease. Sent as the {@code data} of a {@link SignedPayload} signed by the lease's own key.
 *
 * @param lease the lease to register or refresh; null when absent
 * @param nonce random bytes that make each signed request unique
 * @param timestamp creation time, Unix seconds
 */
public record LeaseUpdateRequest(Lease lease, byte[] nonce, long timestamp) implements ProtoMessage {

  public LeaseUpdateRequest {
    nonce = nonce == null ? new byte[0] : nonce.clone();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().message(1, lease).bytes(2, nonce).varint(3, timestamp).toByteArray();
  }

  /** Decodes a LeaseUpdateRequest. */
  public static LeaseUpdateRequest decode(byte[] bytes) throws WireFormatException {
    Lease lease = null;
    byte[] nonce = new byte[0];
    long timestamp = 0;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> lease = Lease.decode(r.readBytes());
        case 2 << 3 | LEN -> nonce = r.readBytes();
        case 3 << 3 | VARINT -> timestamp = r.readVarint();
        default -> r.skip();
      }
    }
    return new LeaseUpdateRequest(lease, nonce, timestamp);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LeaseUpdateRequest other
        && Objects.equals(lease, other.lease)
        && Arrays.equals(nonce, other.nonce)
        && timestamp == other.timestamp;
  }

  @Override
  public int hashCode() {
    return Objects.hash(lease, Arrays.hashCode(nonce), timestamp);
  }

  @Override
  public String toString() {
    return "LeaseUpdateRequest[lease=" + lease + ", nonce=" + nonce.length + " bytes, timestamp=" + timestamp + "]";
  }
}
