package dev.portalgateway.host.http1;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A connection's buffered input, which can also hand over a line straight out of its buffer.
 *
 * <p>A response head used to be read through {@link #read()}, a synchronized call per byte, each
 * byte then appended to a {@code StringBuilder}: about a tenth of the gateway's CPU samples on the
 * no-plugin path (docs/performance.md, "Profile of the no-plugin path"). {@link #readLine} copies
 * a whole line per call and never reads past its LF, so the body behind the head stays buffered
 * for whoever reads it next, exactly as with single-byte reads.
 */
final class ConnectionInput extends BufferedInputStream {
  ConnectionInput(InputStream in, int size) {
    super(in, size);
  }

  /**
   * Copies bytes up to and including the next LF, at most {@code len} of them. Blocks only when
   * nothing is buffered, for one read of the underlying stream, as {@link #read()} does; a read
   * timeout then consumes nothing.
   *
   * @return the bytes copied (at least one when {@code len > 0}), or -1 at the end of the stream
   */
  synchronized int readLine(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (pos >= count) {
      int first = read(); // fills the buffer
      if (first < 0) {
        return -1;
      }
      b[off] = (byte) first;
      return first == '\n' ? 1 : 1 + copyThroughLf(b, off + 1, len - 1);
    }
    return copyThroughLf(b, off, len);
  }

  /** Copies buffered bytes only, through the first LF; never blocks. */
  private int copyThroughLf(byte[] b, int off, int len) throws IOException {
    byte[] buffer = buf;
    if (buffer == null) {
      throw new IOException("Stream closed");
    }
    int end = Math.min(count, pos + len);
    int i = pos;
    while (i < end && buffer[i] != '\n') {
      i++;
    }
    if (i < end) {
      i++; // the LF itself
    }
    int n = i - pos;
    System.arraycopy(buffer, pos, b, off, n);
    pos = i;
    return n;
  }
}
