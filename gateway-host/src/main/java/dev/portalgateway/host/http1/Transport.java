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

  /**
   * Whether the far side has already closed this transport, as far as is known without any I/O:
   * safe to ask from any thread, also while another uses the transport, and never blocks. The
   * pool's sweep asks it of idle transports, so one the peer closed is closed on our side too
   * without waiting for the next request (a tunnel that is shutting down waits for that).
   *
   * @return {@code true} when the far side is known to have closed it; the default knows nothing
   */
  default boolean peerClosed() {
    return false;
  }

  /**
   * A mark of what has been sent on this transport so far, taken before an exchange on a reused
   * transport; see {@link #peerClosedBefore(long)}.
   *
   * @return the mark; the default, -1, when the transport cannot tell
   */
  default long sentMark() {
    return -1;
  }

  /**
   * Whether the far side had closed the transport before anything sent after {@code mark} went
   * out: then a request written after the mark never reached the application behind it, and may
   * be sent again on another connection whatever its method.
   *
   * @param mark what {@link #sentMark()} returned before the request was written
   * @return {@code true} only when that is certain; the default never is
   */
  default boolean peerClosedBefore(long mark) {
    return false;
  }
}
