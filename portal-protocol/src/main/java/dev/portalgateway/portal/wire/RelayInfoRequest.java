package dev.portalgateway.portal.wire;

/** Asks the relay for its identity, addresses and live leases. It has no fields. */
public record RelayInfoRequest() implements ProtoMessage {

  @Override
  public byte[] encode() {
    return new byte[0];
  }

  /** Decodes a RelayInfoRequest; any fields present are unknown and skipped. */
  public static RelayInfoRequest decode(byte[] bytes) throws WireFormatException {
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      r.readTag();
      r.skip();
    }
    return new RelayInfoRequest();
  }
}
