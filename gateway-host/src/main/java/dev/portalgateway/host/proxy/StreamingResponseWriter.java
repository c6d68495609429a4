package dev.portalgateway.host.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Copies a response body to the client as it arrives. It flushes whenever the source has nothing
 * more buffered, so each server-sent event leaves as soon as the upstream has written it, while a
 * bulk download still goes out in full buffers.
 *
 * <p>For event streams it can also send a {@code :} comment line after a quiet interval, so that
 * proxies and load balancers with idle timeouts keep the stream open. A comment is only ever
 * written between events, never inside one.
 */
final class StreamingResponseWriter {
  private static final byte[] KEEPALIVE = ":\n\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final int BUFFER = 16 * 1024;

  private final ScheduledExecutorService keepaliveTimer;

  StreamingResponseWriter(ScheduledExecutorService keepaliveTimer) {
    this.keepaliveTimer = keepaliveTimer;
  }

  /** Thrown when the upstream side failed mid-body; the client side was fine. */
  static final class UpstreamReadException extends IOException {
    UpstreamReadException(IOException cause) {
      super(cause.getMessage(), cause);
    }
  }

  /**
   * @param in the body; read to its end
   * @param out the client's stream; flushed, not closed
   * @param length the body's declared length, or -1 when unknown; only sizes the copy buffer
   * @param keepalive the quiet interval before a comment, or zero for none
   * @return the bytes copied
   * @throws UpstreamReadException when reading {@code in} failed
   * @throws IOException when writing to the client failed (it hung up)
   */
  long copy(InputStream in, OutputStream out, long length, Duration keepalive) throws IOException {
    if (keepalive.isZero()) {
      return copyPlain(in, out, length);
    }
    return copyEventStream(in, out, keepalive);
  }

  private static long copyPlain(InputStream in, OutputStream out, long length) throws IOException {
    // Most API answers are a few hundred bytes to a few KiB: a full 16 KiB buffer for each of them
    // was the largest allocation of a proxied request (16 of its 41 KiB, docs/performance.md). A
    // body longer than declared still copies whole, in more reads.
    byte[] buf = new byte[length > 0 && length < BUFFER ? (int) length : BUFFER];
    long total = 0;
    while (true) {
      int n = read(in, buf);
      if (n < 0) {
        return total;
      }
      out.write(buf, 0, n);
      total += n;
      if (available(in) <= 0) {
        out.flush();
      }
    }
  }

  private long copyEventStream(InputStream in, OutputStream out, Duration keepalive) throws IOException {
    EventStreamState state = new EventStreamState(out, in);
    long intervalNanos = keepalive.toNanos();
    // The shared timer only starts the check: the write itself may block on a client that stopped
    // reading, and must not hold up every other stream's keep-alive and the config watcher.
    ScheduledFuture<?> task = keepaliveTimer.scheduleAtFixedRate(
        () -> Thread.startVirtualThread(() -> state.keepaliveIfIdle(intervalNanos)),
        intervalNanos / 2, Math.max(1, intervalNanos / 2), TimeUnit.NANOSECONDS);
    try {
      byte[] buf = new byte[BUFFER];
      long total = 0;
      while (true) {
        int n;
        try {
          n = read(in, buf);
        } catch (UpstreamReadException e) {
          if (state.clientGone()) {
            // The keep-alive found the client gone and closed the upstream to wake us.
            throw new IOException("the client went away during an event stream", e);
          }
          throw e;
        }
        if (n < 0) {
          return total;
        }
        state.write(buf, n, available(in) <= 0);
        total += n;
      }
    } finally {
      task.cancel(false);
      state.close(); // a keep-alive already started must not write after the stream's last chunk
    }
  }

  private static int read(InputStream in, byte[] buf) throws UpstreamReadException {
    try {
      int n;
      do {
        n = in.read(buf);
      } while (n == 0);
      return n;
    } catch (IOException e) {
      throw new UpstreamReadException(e);
    } catch (RuntimeException e) {
      // A bug in a codec or a plugin's stream wrapper is still a body that did not arrive whole:
      // the client must see a cut response, never one that ends cleanly.
      throw new UpstreamReadException(new IOException("reading the response body failed: " + e, e));
    }
  }

  private static int available(InputStream in) {
    try {
      return in.available();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** @return whether {@code in} has no bytes ready to read without blocking */
  static boolean nothingBuffered(InputStream in) {
    return available(in) <= 0;
  }

  /** Writes from the copier and the keep-alive timer, one at a time. */
  private static final class EventStreamState {
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private final OutputStream out;
    private final InputStream upstream;
    private boolean closed;
    private long lastWrite = System.nanoTime();
    /** The last four bytes written: an event ends with a blank line (LF LF, CR CR or CRLF CRLF). */
    private int tail = 0x0A0A;
    private boolean failed;

    EventStreamState(OutputStream out, InputStream upstream) {
      this.out = out;
      this.upstream = upstream;
    }

    void close() {
      lock.lock();
      try {
        closed = true;
      } finally {
        lock.unlock();
      }
    }

    boolean clientGone() {
      lock.lock();
      try {
        return failed;
      } finally {
        lock.unlock();
      }
    }

    void write(byte[] buf, int n, boolean flush) throws IOException {
      lock.lock();
      try {
        out.write(buf, 0, n);
        if (flush) {
          out.flush();
        }
        for (int i = Math.max(0, n - 4); i < n; i++) {
          tail = tail << 8 | (buf[i] & 0xFF);
        }
        lastWrite = System.nanoTime();
      } finally {
        lock.unlock();
      }
    }

    void keepaliveIfIdle(long intervalNanos) {
      if (!lock.tryLock()) {
        return; // a write is in progress (or stuck on a slow client): the stream is not idle
      }
      try {
        keepaliveLocked(intervalNanos);
      } finally {
        lock.unlock();
      }
    }

    private void keepaliveLocked(long intervalNanos) {
      boolean betweenEvents = (tail & 0xFFFF) == 0x0A0A || (tail & 0xFFFF) == 0x0D0D || tail == 0x0D0A0D0A;
      if (closed || failed || !betweenEvents || System.nanoTime() - lastWrite < intervalNanos) {
        return;
      }
      try {
        out.write(KEEPALIVE);
        out.flush();
        lastWrite = System.nanoTime();
      } catch (IOException e) {
        failed = true;
        // The copier is blocked reading a quiet upstream and would never notice: closing the
        // upstream wakes it and frees the upstream connection.
        try {
          upstream.close();
        } catch (IOException | RuntimeException ignored) {
          // Closing is best effort; the copier still ends on its next read.
        }
      }
    }

  }
}
