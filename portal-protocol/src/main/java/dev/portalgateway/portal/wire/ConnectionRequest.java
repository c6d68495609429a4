package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;

import java.util.Objects;

/**
 * Asks the relay to connect this stream to a lease holder. The relay forwards the same message to
 * the holder.
 *
 * @param leaseId        the ID of the lease to reach
 * @param clientIdentity the requesting client's identity; null when absent
 */
public record ConnectionRequest(String leaseId, Identity clientIdentity) implements ProtoMessage {

  public ConnectionRequest {
    Objects.requireNonNull(leaseId, "leaseId");
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().string(1, leaseId).message(2, clientIdentity).toByteArray();
  }

  /** Decodes a ConnectionRequest. */
  public static ConnectionRequest decode(byte[] bytes) throws WireFormatException {
    String leaseId = "";
    Identity clientIdentity = null;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> leaseId = r.readString();
        case 2 << 3 | LEN -> clientIdentity = Identity.decode(r.readBytes());
        default -> r.skip();
      }
    }
    return new ConnectionRequest(leaseId, clientIdentity);
  }
}
