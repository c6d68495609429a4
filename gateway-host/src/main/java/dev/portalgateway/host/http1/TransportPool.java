package dev.portalgateway.host.http1;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Idle keep-alive transports to one upstream, newest first. Bounded in count; a transport idle
 * longer than {@code idleTimeoutNanos}, or closed by the far side, is discarded at checkout.
 */
public final class TransportPool implements AutoCloseable {
  /** Opens a new transport when the pool has none. */
  @FunctionalInterface
  public interface Opener {
    Transport open() throws IOException;
  }

  private record Idle(Connection connection, long since) {}

  private final Opener opener;
  private final int maxIdle;
  private final long idleTimeoutNanos;
  private final Deque<Idle> idle = new ArrayDeque<>();
  private boolean closed;

  /**
   * @param opener opens new transports
   * @param maxIdle the most idle transports kept
   * @param idleTimeoutNanos how long an idle transport is kept
   */
  public TransportPool(Opener opener, int maxIdle, long idleTimeoutNanos) {
    this.opener = opener;
    this.maxIdle = maxIdle;
    this.idleTimeoutNanos = idleTimeoutNanos;
  }

  /** @return a pooled connection if a usable one is idle, else {@code null} */
  Connection pooled() {
    while (true) {
      Idle candidate;
      synchronized (this) {
        candidate = idle.pollFirst();
      }
      if (candidate == null) {
        return null;
      }
      if (System.nanoTime() - candidate.since() < idleTimeoutNanos && !candidate.connection().transport().isStale()) {
        return candidate.connection();
      }
      candidate.connection().closeQuietly();
    }
  }

  /** @return a new connection */
  Connection open() throws IOException {
    return new Connection(opener.open(), this);
  }

  /** Takes back a connection whose last exchange completed cleanly. */
  void release(Connection c) {
    Idle evicted = null;
    synchronized (this) {
      if (closed) {
        evicted = new Idle(c, 0);
      } else {
        idle.addFirst(new Idle(c, System.nanoTime()));
        if (idle.size() > maxIdle) {
          evicted = idle.pollLast();
        }
      }
    }
    if (evicted != null) {
      evicted.connection().closeQuietly();
    }
  }

  /** @return idle connections now (for tests and metrics) */
  public synchronized int idleCount() {
    return idle.size();
  }

  @Override
  public void close() {
    Deque<Idle> drained;
    synchronized (this) {
      closed = true;
      drained = new ArrayDeque<>(idle);
      idle.clear();
    }
    drained.forEach(i -> i.connection().closeQuietly());
  }

  /** A transport with the buffered streams the codec uses on it. */
  static final class Connection {
    private final Transport transport;
    private final TransportPool pool;
    final ConnectionInput in;
    final java.io.BufferedOutputStream out;

    Connection(Transport transport, TransportPool pool) throws IOException {
      this.transport = transport;
      this.pool = pool;
      this.in = new ConnectionInput(transport.input(), 16 * 1024);
      this.out = new java.io.BufferedOutputStream(transport.output(), 16 * 1024);
    }

    Transport transport() {
      return transport;
    }

    void release() {
      pool.release(this);
    }

    void closeQuietly() {
      try {
        transport.close();
      } catch (IOException ignored) {
        // Already broken: nothing to release.
      }
    }
  }
}
