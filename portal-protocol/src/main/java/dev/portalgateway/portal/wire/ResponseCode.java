package dev.portalgateway.portal.wire;

/** The relay's or lease holder's answer to a lease update, lease delete or connection request. */
public enum ResponseCode {
  UNKNOWN(0),
  ACCEPTED(1),
  INVALID_EXPIRES(2),
  INVALID_IDENTITY(3),
  INVALID_NAME(4),
  INVALID_ALPN(5),
  REJECTED(6);

  private final int number;

  ResponseCode(int number) {
    this.number = number;
  }

  /** The value on the wire. */
  public int number() {
    return number;
  }

  /**
   * The code with this wire value. A value added by a newer peer maps to {@link #UNKNOWN}, which
   * every caller already treats as "not accepted".
   */
  public static ResponseCode forNumber(int number) {
    for (ResponseCode code : values()) {
      if (code.number == number) {
        return code;
      }
    }
    return UNKNOWN;
  }

  /**
   * Encodes a response message whose only field is this code as field 1: the shape of
   * LeaseUpdateResponse, LeaseDeleteResponse and ConnectionResponse alike.
   */
  byte[] encodeAsField1() {
    return new ProtoWriter().varint(1, number).toByteArray();
  }

  /** Decodes the code in field 1 of such a message; an absent field is {@link #UNKNOWN}'s number 0. */
  static ResponseCode decodeField1(byte[] bytes) throws WireFormatException {
    int code = 0;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      if (r.readTag() == (1 << 3 | ProtoReader.VARINT)) {
        code = r.readEnum();
      } else {
        r.skip();
      }
    }
    return forNumber(code);
  }
}
