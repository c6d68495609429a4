package dev.portalgateway.host.proxy;

import dev.portalgateway.api.BodyTooLargeException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import dev.portalgateway.host.http1.RequestBodyException;

/**
 * A request body that fails with {@link BodyTooLargeException} past {@code limit} bytes. Checked
 * while streaming, so a chunked upload without a {@code Content-Length} is held to the same limit.
 */
final class LimitedInputStream extends FilterInputStream {
  private final long limit;
  private long count;

  LimitedInputStream(InputStream in, long limit) {
    super(in);
    this.limit = limit;
  }

  @Override
  public int read() throws IOException {
    int b;
    try {
      b = super.read();
    } catch (IOException e) {
      throw new RequestBodyException(e);
    }
    if (b >= 0) {
      counted(1);
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n;
    try {
      n = super.read(b, off, len);
    } catch (IOException e) {
      // The client stopped sending: say so, whoever was reading (the codec or a plugin buffering it).
      throw new RequestBodyException(e);
    }
    if (n > 0) {
      counted(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long skipped = super.skip(n);
    counted(skipped);
    return skipped;
  }

  private void counted(long n) throws BodyTooLargeException {
    count += n;
    if (count > limit) {
      throw new BodyTooLargeException(limit);
    }
  }

  /** @return bytes read so far */
  long count() {
    return count;
  }
}
