package dev.portalgateway.host.http1;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Idle keep-alive transports to one upstream, newest first. Bounded in count; a transport idle
 * longer than {@code idleTimeoutNanos}, or closed by the far side, is discarded at checkout.
 *
 * <p>Checkout takes the newest, so the oldest transports are the ones a smaller load no longer
 * needs: they age at the tail, and every release (and {@link #evictExpired}) closes those idle
 * past the timeout. That lets the count bound be generous (a burst of N concurrent requests
 * keeps N transports for the next burst, instead of closing all but a few and paying a new
 * connection or handshake for each of the rest) without holding the surplus forever.
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

  /**
   * Checking a transport for staleness costs system calls (a non-blocking read on a socket, with
   * the blocking mode switched off and on again): 4 % of the gateway's Java CPU at full load.
   * Servers close idle keep-alive connections after seconds (gunicorn 2 s, Node.js and uvicorn
   * 5 s, nginx 75 s), so one used within this long is all but never stale, and a caller that
   * can retry on a new connection loses little if it is.
   */
  private static final long UNCHECKED_IDLE_NANOS = 1_000_000_000L;

  /**
   * @param canRetry whether the caller can resend its request on a new connection should this one
   *     turn out closed (its body is empty or buffered); then a transport idle for under a second
   *     is handed out without the staleness check
   * @return a pooled connection if a usable one is idle, else {@code null}
   */
  Connection pooled(boolean canRetry) {
    while (true) {
      Idle candidate;
      synchronized (this) {
        candidate = idle.pollFirst();
      }
      if (candidate == null) {
        return null;
      }
      long idleFor = System.nanoTime() - candidate.since();
      if (idleFor < idleTimeoutNanos
          && ((canRetry && idleFor < UNCHECKED_IDLE_NANOS) || !candidate.connection().transport().isStale())) {
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
    Connection evicted = null;
    List<Connection> expired = null;
    synchronized (this) {
      if (closed) {
        evicted = c;
      } else {
        long now = System.nanoTime();
        idle.addFirst(new Idle(c, now));
        if (idle.size() > maxIdle) {
          evicted = idle.pollLast().connection();
        }
        expired = pollExpired(now);
      }
    }
    if (evicted != null) {
      evicted.closeQuietly();
    }
    closeAll(expired);
  }

  /**
   * Closes the idle transports kept longer than the idle timeout. Releases do this as they go;
   * call it periodically as well, so a pool that has gone quiet does not keep its transports (and
   * whatever the far side holds for them) open until the next request.
   */
  public void evictExpired() {
    List<Connection> expired;
    synchronized (this) {
      expired = pollExpired(System.nanoTime());
    }
    closeAll(expired);
  }

  /** @return the expired transports removed from the tail, or {@code null} for none (the usual case) */
  private List<Connection> pollExpired(long now) {
    List<Connection> expired = null;
    for (Idle oldest = idle.peekLast(); oldest != null && now - oldest.since() >= idleTimeoutNanos;
        oldest = idle.peekLast()) {
      if (expired == null) {
        expired = new ArrayList<>();
      }
      expired.add(idle.pollLast().connection());
    }
    return expired;
  }

  private static void closeAll(List<Connection> connections) {
    if (connections != null) {
      connections.forEach(Connection::closeQuietly);
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
