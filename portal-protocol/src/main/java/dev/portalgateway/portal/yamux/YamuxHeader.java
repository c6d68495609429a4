package dev.portalgateway.portal.yamux;


/**
 * One 12-byte yamux frame header, as hashicorp/yamux lays it out (big-endian):
 * {@code version u8 | type u8 | flags u16 | streamId u32 | length u32}.
 *
 * <p>{@code length} means different things per type: payload size for {@link #TYPE_DATA}, window
 * increment for {@link #TYPE_WINDOW_UPDATE}, opaque ping value for {@link #TYPE_PING} and the
 * error code for {@link #TYPE_GO_AWAY}. It is kept as an {@code int} holding the unsigned 32-bit
 * value; use {@link Integer#toUnsignedLong(int)} where the magnitude matters.
 */
public record YamuxHeader(int version, int type, int flags, int streamId, int length) {

  /** Size of an encoded header in bytes. */
  public static final int SIZE = 12;
  /** The only protocol version yamux defines. */
  public static final int PROTOCOL_VERSION = 0;

  public static final int TYPE_DATA = 0;
  public static final int TYPE_WINDOW_UPDATE = 1;
  public static final int TYPE_PING = 2;
  public static final int TYPE_GO_AWAY = 3;

  public static final int FLAG_SYN = 1;
  public static final int FLAG_ACK = 2;
  public static final int FLAG_FIN = 4;
  public static final int FLAG_RST = 8;

  /** GoAway code: normal termination. */
  public static final int GO_AWAY_NORMAL = 0;
  /** GoAway code: the peer violated the protocol. */
  public static final int GO_AWAY_PROTOCOL_ERROR = 1;
  /** GoAway code: internal error. */
  public static final int GO_AWAY_INTERNAL_ERROR = 2;

  /** Creates a version-0 header. */
  public static YamuxHeader of(int type, int flags, int streamId, int length) {
    return new YamuxHeader(PROTOCOL_VERSION, type, flags, streamId, length);
  }

  /** Writes this header into {@code dst} at {@code offset}. */
  public void encodeInto(byte[] dst, int offset) {
    dst[offset] = (byte) version;
    dst[offset + 1] = (byte) type;
    dst[offset + 2] = (byte) (flags >>> 8);
    dst[offset + 3] = (byte) flags;
    putInt(dst, offset + 4, streamId);
    putInt(dst, offset + 8, length);
  }

  /** Returns the 12 encoded bytes. */
  public byte[] encode() {
    byte[] out = new byte[SIZE];
    encodeInto(out, 0);
    return out;
  }

  /**
   * Decodes a header, rejecting unknown versions and types (hashicorp/yamux treats both as a
   * protocol error that ends the session).
   */
  public static YamuxHeader decode(byte[] src, int offset) throws YamuxProtocolException {
    int version = src[offset] & 0xff;
    int type = src[offset + 1] & 0xff;
    int flags = ((src[offset + 2] & 0xff) << 8) | (src[offset + 3] & 0xff);
    int streamId = getInt(src, offset + 4);
    int length = getInt(src, offset + 8);
    if (version != PROTOCOL_VERSION) {
      throw new YamuxProtocolException("unsupported yamux version " + version);
    }
    if (type > TYPE_GO_AWAY) {
      throw new YamuxProtocolException("unknown yamux frame type " + type);
    }
    return new YamuxHeader(version, type, flags, streamId, length);
  }

  /** Whether all bits of {@code flag} are set. */
  public boolean has(int flag) {
    return (flags & flag) == flag;
  }

  private static void putInt(byte[] dst, int offset, int value) {
    dst[offset] = (byte) (value >>> 24);
    dst[offset + 1] = (byte) (value >>> 16);
    dst[offset + 2] = (byte) (value >>> 8);
    dst[offset + 3] = (byte) value;
  }

  private static int getInt(byte[] src, int offset) {
    return ((src[offset] & 0xff) << 24) | ((src[offset + 1] & 0xff) << 16)
        | ((src[offset + 2] & 0xff) << 8) | (src[offset + 3] & 0xff);
  }

  @Override
  public String toString() {
    String[] names = {"Data", "WindowUpdate", "Ping", "GoAway"};
    return names[type] + "{flags=" + flags + ", stream=" + Integer.toUnsignedLong(streamId)
        + ", length=" + Integer.toUnsignedLong(length) + "}";
  }
}
