package dev.portalgateway.portal.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The {@code u32 big-endian length | bytes} framing used for packets on control streams and for
 * handshake messages. Lengths above {@link #MAX_FRAME_LENGTH} are rejected before anything is
 * allocated, so a hostile peer cannot make us reserve gigabytes with four bytes.
 */
public final class PacketFraming {
  /** The largest body a frame may carry: 64 MiB. */
  public static final int MAX_FRAME_LENGTH = 64 << 20;

  private PacketFraming() {
  }

  /** Writes one frame as a single write call and flushes it. */
  public static void write(OutputStream out, byte[] body) throws IOException {
    if (body.length > MAX_FRAME_LENGTH) {
      throw new WireFormatException("frame of " + body.length + " bytes exceeds the 64 MiB limit");
    }
    byte[] frame = new byte[4 + body.length];
    frame[0] = (byte) (body.length >>> 24);
    frame[1] = (byte) (body.length >>> 16);
    frame[2] = (byte) (body.length >>> 8);
    frame[3] = (byte) body.length;
    System.arraycopy(body, 0, frame, 4, body.length);
    out.write(frame);
    out.flush();
  }

  /** Writes {@code packet} as one frame. */
  public static void writePacket(OutputStream out, Packet packet) throws IOException {
    write(out, packet.encode());
  }

  /**
   * Reads one frame's body, however the stream splits it into pieces.
   *
   * @throws EOFException        if the stream ends before or inside the frame
   * @throws WireFormatException if the length exceeds the limit
   */
  public static byte[] read(InputStream in) throws IOException {
    long length = readLength(in);
    if (length > MAX_FRAME_LENGTH) {
      throw new WireFormatException("frame length " + length + " exceeds the 64 MiB limit");
    }
    return readBody(in, (int) length);
  }

  /** Reads one frame and decodes it as a {@link Packet}. */
  public static Packet readPacket(InputStream in) throws IOException {
    return Packet.decode(read(in));
  }

  /** Reads a big-endian u32 length prefix as a non-negative long. */
  static long readLength(InputStream in) throws IOException {
    byte[] prefix = in.readNBytes(4);
    if (prefix.length < 4) {
      throw new EOFException(prefix.length == 0 ? "end of stream" : "end of stream inside a length prefix");
    }
    return (prefix[0] & 0xFFL) << 24 | (prefix[1] & 0xFFL) << 16 | (prefix[2] & 0xFFL) << 8 | (prefix[3] & 0xFFL);
  }

  private static byte[] readBody(InputStream in, int length) throws IOException {
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new EOFException("end of stream inside a frame: " + body.length + " of " + length + " bytes");
    }
    return body;
  }
}
