package dev.portalgateway.host.portal;

import dev.portalgateway.host.http1.Transport;
import dev.portalgateway.portal.client.RelayClient;
import dev.portalgateway.portal.crypto.SecureChannel;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * An end-to-end encrypted stream to a lease, as a {@link Transport} for the HTTP/1.1 codec: the
 * same codec that speaks to plain upstreams speaks through the relay.
 *
 * <p>A relay stream has no socket timeout, so a read timeout is a timer that closes the channel;
 * the read it interrupts reports a {@link SocketTimeoutException}, as a socket would. The codec
 * only sets one while it waits for a response head, and gives the connection up afterwards.
 *
 * <p>An idle connection is stale as soon as the relay stream under it says the peer closed or
 * reset it, or the relay session ended: servers close idle keep-alive connections after a few
 * seconds (Node.js after 5), the tunnel then closes its side, and the next request on it would
 * fail. The stream knows without a read, so the pool checks it before every reuse.
 */
final class SecureChannelTransport implements Transport {
  private final SecureChannel channel;
  private final RelayClient.LeaseConnection connection;
  private final ScheduledExecutorService timers;
  private final InputStream input;
  private volatile ScheduledFuture<?> deadline;
  private volatile boolean timedOut;
  private volatile boolean closed;

  private final OutputStream output;

  /**
   * @param bytesIn counts application bytes from the lease
   * @param bytesOut counts application bytes to the lease
   */
  SecureChannelTransport(RelayClient.LeaseConnection connection, ScheduledExecutorService timers,
      io.prometheus.client.Counter.Child bytesIn, io.prometheus.client.Counter.Child bytesOut) {
    this.connection = connection;
    this.channel = connection.channel();
    this.timers = timers;
    this.output = new java.io.FilterOutputStream(channel.output()) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len); // straight through: FilterOutputStream would write byte by byte
        bytesOut.inc(len);
      }
    };
    this.input = new FilterInputStream(channel.input()) {
      @Override
      public int read() throws IOException {
        try {
          int b = super.read();
          if (b < 0) {
            closed = true;
          }
          return b;
        } catch (IOException e) {
          closed = true;
          throw timedOut ? new SocketTimeoutException("no response head in time") : e;
        }
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        try {
          int n = super.read(b, off, len);
          if (n < 0) {
            closed = true; // the service closed its side: never reuse this one
          } else {
            bytesIn.inc(n);
          }
          return n;
        } catch (IOException e) {
          closed = true;
          throw timedOut ? new SocketTimeoutException("no response head in time") : e;
        }
      }
    };
  }

  @Override
  public InputStream input() {
    return input;
  }

  @Override
  public OutputStream output() {
    return output;
  }

  @Override
  public void readTimeout(int millis) {
    ScheduledFuture<?> previous = deadline;
    if (previous != null) {
      previous.cancel(false);
    }
    deadline = millis <= 0 ? null : timers.schedule(() -> {
      timedOut = true;
      closeQuietly();
    }, millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean peerClosed() {
    return closed || connection.peerGone();
  }

  @Override
  public long sentMark() {
    return connection.sentMark();
  }

  @Override
  public boolean peerClosedBefore(long mark) {
    return mark >= 0 && connection.peerClosedBefore(mark);
  }

  @Override
  public boolean isStale() {
    if (timedOut || peerClosed()) {
      return true;
    }
    try {
      return channel.input().available() > 0; // decrypted bytes no request asked for
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() {
    closeQuietly();
  }

  private void closeQuietly() {
    closed = true;
    try {
      channel.close();
    } catch (IOException ignored) {
      // Already broken.
    }
  }
}
