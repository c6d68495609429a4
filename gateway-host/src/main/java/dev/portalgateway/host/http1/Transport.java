package dev.portalgateway.host.http1;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A byte stream to an upstream that HTTP/1.1 runs over: a TCP socket for plain upstreams, an
 * end-to-end-encrypted stream through a Portal relay for leases. {@link Http1Client} speaks
 * HTTP over either, so both connectors share one codec and one pool.
 */
public interface Transport extends Closeable {
  /** @return the stream to read responses from (buffered by the caller) */
  InputStream input() throws IOException;

  /** @return the stream to write requests to (buffered by the caller) */
  OutputStream output() throws IOException;

  /**
   * Bounds each blocking read; a read that waits longer fails with
   * {@link java.net.SocketTimeoutException}. Zero waits forever.
   */
  void readTimeout(int millis) throws IOException;

  /**
   * Checks, without blocking, whether an idle pooled transport is still usable: the far side may
   * have closed it while it sat in the pool.
   *
   * @return {@code true} when it must be discarded
   */
  boolean isStale();
}
