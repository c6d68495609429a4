package dev.portalgateway.portal.wire;

/** The kind of message a {@link Packet} carries in its payload. */
public enum PacketType {
  RELAY_INFO_REQUEST(0),
  RELAY_INFO_RESPONSE(1),
  LEASE_UPDATE_REQUEST(2),
  LEASE_UPDATE_RESPONSE(3),
  LEASE_DELETE_REQUEST(4),
  LEASE_DELETE_RESPONSE(5),
  CONNECTION_REQUEST(6),
  CONNECTION_RESPONSE(7);

  private final int number;

  PacketType(int number) {
    this.number = number;
  }

  /** The value on the wire. */
  public int number() {
    return number;
  }

  /** The type with this wire value; an unknown value is a protocol error for us. */
  public static PacketType forNumber(int number) throws WireFormatException {
    for (PacketType type : values()) {
      if (type.number == number) {
        return type;
      }
    }
    throw new WireFormatException("unknown packet type " + number);
  }
}
