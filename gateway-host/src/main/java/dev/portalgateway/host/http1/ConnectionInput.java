package dev.portalgateway.host.http1;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A connection's buffered input, which can also hand over a line straight out of its buffer.
 *
 * <p>A response head used to be read through {@code BufferedInputStream.read()}, one call per
 * byte, each byte then appended to a {@code StringBuilder}: about a tenth of the gateway's CPU
 * samples on the no-plugin path (docs/performance.md, "Profile of the no-plugin path").
 * {@link #readLine} copies a whole line per call and never reads past its LF, so the body behind
 * the head stays buffered for whoever reads it next.
 *
 * <p>Not thread-safe, and deliberately without a lock: a connection has one user at a time (the
 * exchange that took it from the pool). It is not a {@code BufferedInputStream} subclass either:
 * on JDK 21 to 23 a subclass's methods are {@code synchronized}, and a virtual thread blocked in
 * a read while holding a monitor pins its carrier thread, so a few slow upstreams could stall the
 * whole gateway.
 */
public final class ConnectionInput extends InputStream {
  private final InputStream in;
  private final byte[] buf;
  private int pos;
  private int count;
  private boolean closed;

  /**
   * @param in the connection's stream
   * @param size the buffer size
   */
  public ConnectionInput(InputStream in, int size) {
    this.in = in;
    this.buf = new byte[size];
  }

  /** Reads from the connection into the empty buffer; a read timeout consumes nothing. */
  private int fill() throws IOException {
    if (closed) {
      throw new IOException("Stream closed");
    }
    pos = 0;
    count = 0;
    int n = in.read(buf, 0, buf.length);
    if (n > 0) {
      count = n;
    }
    return n;
  }

  @Override
  public int read() throws IOException {
    if (pos >= count && fill() <= 0) {
      return -1;
    }
    return buf[pos++] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (pos >= count) {
      if (len >= buf.length && !closed) {
        return in.read(b, off, len); // a large read needs no copy through the buffer
      }
      if (fill() <= 0) {
        return -1;
      }
    }
    int n = Math.min(len, count - pos);
    System.arraycopy(buf, pos, b, off, n);
    pos += n;
    return n;
  }

  /**
   * Copies bytes up to and including the next LF, at most {@code len} of them. Blocks only when
   * nothing is buffered, for one read of the underlying stream, as {@link #read()} does; a read
   * timeout then consumes nothing.
   *
   * @return the bytes copied (at least one when {@code len > 0}), or -1 at the end of the stream
   */
  public int readLine(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (pos >= count && fill() <= 0) {
      return -1;
    }
    int end = Math.min(count, pos + len);
    int i = pos;
    while (i < end && buf[i] != '\n') {
      i++;
    }
    if (i < end) {
      i++; // the LF itself
    }
    int n = i - pos;
    System.arraycopy(buf, pos, b, off, n);
    pos = i;
    return n;
  }

  @Override
  public int available() throws IOException {
    if (closed) {
      throw new IOException("Stream closed");
    }
    return (count - pos) + in.available();
  }

  @Override
  public void close() throws IOException {
    closed = true;
    in.close();
  }
}
