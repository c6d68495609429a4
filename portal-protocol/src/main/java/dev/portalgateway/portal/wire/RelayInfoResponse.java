package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;

/**
 * The relay's answer to a {@link RelayInfoRequest}.
 *
 * @param relayInfo the relay's description; null when absent
 */
public record RelayInfoResponse(RelayInfo relayInfo) implements ProtoMessage {

  @Override
  public byte[] encode() {
    return new ProtoWriter().message(1, relayInfo).toByteArray();
  }

  /** Decodes a RelayInfoResponse. */
  public static RelayInfoResponse decode(byte[] bytes) throws WireFormatException {
    RelayInfo relayInfo = null;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> relayInfo = RelayInfo.decode(r.readBytes());
        default -> r.skip();
      }
    }
    return new RelayInfoResponse(relayInfo);
  }
}
