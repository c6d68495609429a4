package dev.portalgateway.host.http1;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Idle keep-alive transports to one upstream, newest first. Bounded in count; a transport idle
 * longer than {@code idleTimeoutNanos}, or closed by the far side, is discarded at checkout.
 *
 * <p>Checkout takes the newest, so the oldest transports are the ones a smaller load no longer
 * needs: they age at the tail, and every release (and {@link #evictExpired}) closes those idle
 * past the timeout. That lets the count bound be generous (a burst of N concurrent requests
 * keeps N transports for the next burst, instead of closing all but a few and paying a new
 * connection or handshake for each of the rest) without holding the surplus forever.
 *
 * <p>Opening can be bounded too ({@code maxOpening}): through a Portal relay a new connection is
 * an end-to-end handshake, milliseconds of CPU on each side, and a burst of a few hundred
 * requests on an empty pool would start a few hundred at once and starve everything else. Past
 * the bound a request waits for whichever comes first, a connection released by another request
 * or a free opening slot, so the pool still grows to what the load needs, a bounded number of
 * handshakes at a time.
 *
 * <p>Waiting requests are served first come, first served: a released connection or a freed slot
 * is handed to the longest-waiting request directly, never left for a newcomer to take. Without
 * that, under a sustained overload a request could lose every race until its wait ran out, and
 * the tail latency would be set by luck rather than by the queue.
 */
public final class TransportPool implements AutoCloseable {
  /** Opens a new transport when the pool has none. */
  @FunctionalInterface
  public interface Opener {
    Transport open() throws IOException;
  }

  private record Idle(Connection connection, long since) {}

  /** A request waiting past the opening bound, and what was handed to it. Guarded by {@code lock}. */
  private static final class Waiter {
    final Condition wakeup;
    /** False for {@link #acquireNew}: it wants an opening slot only, never a pooled connection. */
    final boolean takesConnections;
    Connection handed;
    boolean slot;

    Waiter(Condition wakeup, boolean takesConnections) {
      this.wakeup = wakeup;
      this.takesConnections = takesConnections;
    }

    boolean served() {
      return handed != null || slot;
    }
  }

  private final Opener opener;
  private final int maxIdle;
  private final long idleTimeoutNanos;
  private final int maxOpening;
  private final long openWaitNanos;
  /** Guards everything below. A lock, not a monitor: waiting virtual threads must not pin carriers. */
  private final ReentrantLock lock = new ReentrantLock();
  private final Deque<Idle> idle = new ArrayDeque<>();
  /**
   * Oldest first. While a request that takes connections waits, {@code idle} is empty (a release
   * hands its connection over instead), and while any waits, all {@code maxOpening} slots are
   * taken (a freed slot is handed over): so a newcomer finds nothing to take and queues behind.
   */
  private final Deque<Waiter> waiters = new ArrayDeque<>();
  private int opening;
  /** Set by {@link #keepNone}: releases close their connections, as in a closed pool, but opening still works. */
  private boolean keepingNone;
  private boolean closed;

  /**
   * A pool that opens as many connections at once as requests need.
   *
   * @param opener opens new transports
   * @param maxIdle the most idle transports kept
   * @param idleTimeoutNanos how long an idle transport is kept
   */
  public TransportPool(Opener opener, int maxIdle, long idleTimeoutNanos) {
    this(opener, maxIdle, idleTimeoutNanos, Integer.MAX_VALUE, 0);
  }

  /**
   * @param opener opens new transports
   * @param maxIdle the most idle transports kept
   * @param idleTimeoutNanos how long an idle transport is kept
   * @param maxOpening the most transports being opened at once
   * @param openWaitNanos how long a request waits, past {@code maxOpening}, for a connection
   */
  public TransportPool(Opener opener, int maxIdle, long idleTimeoutNanos, int maxOpening, long openWaitNanos) {
    if (maxOpening < 1) {
      throw new IllegalArgumentException("maxOpening must be at least 1: " + maxOpening);
    }
    this.opener = opener;
    this.maxIdle = maxIdle;
    this.idleTimeoutNanos = idleTimeoutNanos;
    this.maxOpening = maxOpening;
    this.openWaitNanos = openWaitNanos;
  }

  /**
   * A connection for one exchange: an idle one if a usable one is there ({@link Connection#reused()}),
   * else a new one. When {@code maxOpening} are being opened already, waits for a released
   * connection or a free slot.
   *
   * @throws SocketTimeoutException when no connection became free within the wait
   * @throws IOException when opening failed, or the pool is closed
   */
  Connection acquire() throws IOException {
    return acquire(true);
  }

  /**
   * A new connection, opened within the same bound as {@link #acquire}: for a request whose pooled
   * connection turned out closed. After a relay reconnect every pooled connection is dead, and
   * their retries must not start a handshake each at once.
   */
  Connection acquireNew() throws IOException {
    return acquire(false);
  }

  private Connection acquire(boolean pooledToo) throws IOException {
    long deadline = 0; // set when it first has to wait: most requests never do
    boolean servedStale = false;
    while (true) {
      Connection c = pooledToo ? pooled() : null;
      if (c != null) {
        return c;
      }
      Waiter waiter;
      lock.lock();
      try {
        if (closed) {
          throw new IOException("the connection pool is closed");
        }
        if (opening < maxOpening) {
          opening++;
          break;
        }
        if (pooledToo && !idle.isEmpty()) {
          continue; // released since pooled() looked
        }
        if (deadline == 0) {
          deadline = System.nanoTime() + openWaitNanos;
        }
        waiter = new Waiter(lock.newCondition(), pooledToo);
        if (servedStale) {
          waiters.addFirst(waiter); // it had reached the front already: it keeps its place
        } else {
          waiters.addLast(waiter);
        }
        await(waiter, deadline);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for a connection");
      } finally {
        lock.unlock();
      }
      if (waiter.slot) {
        break;
      }
      c = waiter.handed;
      if (usable(c)) {
        c.reused = true;
        return c;
      }
      c.closeQuietly(); // closed by the far side since its release: rare; wait again
      servedStale = true;
    }
    try {
      return open();
    } finally {
      freeSlot();
    }
  }

  /** Waits, holding {@code lock}, until {@code waiter} is served; otherwise it leaves the queue and throws. */
  private void await(Waiter waiter, long deadline) throws IOException, InterruptedException {
    while (!waiter.served()) {
      long left = deadline - System.nanoTime();
      if (closed || left <= 0) {
        waiters.remove(waiter);
        throw closed ? new IOException("the connection pool is closed")
            : new SocketTimeoutException("no connection became free within "
                + TimeUnit.NANOSECONDS.toMillis(openWaitNanos) + " ms (" + maxOpening + " were being opened)");
      }
      try {
        waiter.wakeup.awaitNanos(left);
      } catch (InterruptedException e) {
        if (waiter.served()) {
          // Served as the interrupt came: take what it was given (nothing to pass on under the
          // lock) and leave the interrupt for the exchange to notice.
          Thread.currentThread().interrupt();
          return;
        }
        waiters.remove(waiter);
        throw e;
      }
    }
  }

  /** Hands a freed opening slot to the longest-waiting request, or frees it. */
  private void freeSlot() {
    lock.lock();
    try {
      freeSlotLocked();
    } finally {
      lock.unlock();
    }
  }

  private void freeSlotLocked() {
    Waiter next = closed ? null : waiters.pollFirst(); // after close() waiters fail, none opens
    if (next == null) {
      opening--;
    } else {
      next.slot = true; // the slot passes on: opening stays as it is
      next.wakeup.signal();
    }
  }

  /** @return whether {@code c} went to the longest-waiting request that takes connections. Holding {@code lock}. */
  private boolean handOver(Connection c) {
    for (java.util.Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.takesConnections) {
        it.remove();
        w.handed = c;
        w.wakeup.signal();
        return true;
      }
    }
    return false;
  }

  /**
   * @return a pooled connection if a usable one is idle, else {@code null}. Each is checked for
   *     staleness first, however recently it was used: besides a close by the far side, the check
   *     finds bytes no request asked for (a body after a HEAD or a 304, say), which the next
   *     exchange would otherwise read as its answer.
   */
  Connection pooled() {
    while (true) {
      Idle candidate;
      lock.lock();
      try {
        candidate = idle.pollFirst();
      } finally {
        lock.unlock();
      }
      if (candidate == null) {
        return null;
      }
      if (System.nanoTime() - candidate.since() < idleTimeoutNanos && usable(candidate.connection())) {
        candidate.connection().reused = true;
        return candidate.connection();
      }
      candidate.connection().closeQuietly();
    }
  }

  /** @return whether {@code c}, idle since its release, is fit to carry the next exchange (see {@link #pooled}) */
  private static boolean usable(Connection c) {
    return !c.transport().isStale();
  }

  /** @return a new connection */
  Connection open() throws IOException {
    return new Connection(opener.open(), this);
  }

  /** Takes back a connection whose last exchange completed cleanly. */
  void release(Connection c) {
    Connection evicted = null;
    List<Connection> expired = null;
    lock.lock();
    try {
      if (closed || keepingNone) {
        evicted = c;
      } else if (maxIdle == 0 || !handOver(c)) { // a pool that keeps none reuses none, waiters included
        long now = System.nanoTime();
        idle.addFirst(new Idle(c, now));
        if (idle.size() > maxIdle) {
          evicted = idle.pollLast().connection();
        }
        expired = pollExpired(now);
      }
    } finally {
      lock.unlock();
    }
    if (evicted != null) {
      evicted.closeQuietly();
    }
    closeAll(expired);
  }

  /**
   * From now on keeps no idle transport: closes those idle now, and each one released later.
   * Requests still in progress can open connections as before. For a pool nobody will start a
   * request on again (a replaced configuration generation, kept open only for the requests
   * still on it, which may stream for hours), whose idle connections no sweep reaches.
   */
  public void keepNone() {
    List<Connection> drained;
    lock.lock();
    try {
      keepingNone = true;
      drained = drainIdle();
    } finally {
      lock.unlock();
    }
    closeAll(drained);
  }

  /** @return every idle connection, removed from the pool, for closing once the lock is released */
  private List<Connection> drainIdle() {
    List<Connection> drained = new ArrayList<>(idle.size());
    idle.forEach(i -> drained.add(i.connection()));
    idle.clear();
    return drained;
  }

  /**
   * Closes the idle transports kept longer than the idle timeout, and those whose far side is
   * known to have closed them ({@link Transport#peerClosed()}). Releases do the first as they go;
   * call it periodically as well, so a pool that has gone quiet does not keep its transports (and
   * whatever the far side holds for them) open until the next request.
   */
  public void evictExpired() {
    List<Connection> expired;
    Idle[] idleNow;
    lock.lock();
    try {
      expired = pollExpired(System.nanoTime());
      idleNow = idle.toArray(Idle[]::new);
    } finally {
      lock.unlock();
    }
    closeAll(expired);
    // Connections the far side has closed go at once, not at the next request: their peer (a
    // tunnel about to exit, say) waits for our side to close too. Checked outside the lock, with
    // the check that is safe while a request may just be taking the connection.
    List<Idle> stale = null;
    for (Idle i : idleNow) {
      if (i.connection().transport().peerClosed()) {
        if (stale == null) {
          stale = new ArrayList<>();
        }
        stale.add(i);
      }
    }
    if (stale == null) {
      return;
    }
    List<Connection> removed = new ArrayList<>(stale.size());
    lock.lock();
    try {
      for (Idle i : stale) {
        if (idle.remove(i)) { // still idle: nobody took it meanwhile
          removed.add(i.connection());
        }
      }
    } finally {
      lock.unlock();
    }
    closeAll(removed);
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

  /** @return requests waiting for a connection now (for tests) */
  int waitingCount() {
    lock.lock();
    try {
      return waiters.size();
    } finally {
      lock.unlock();
    }
  }

  /** @return idle connections now (for tests and metrics) */
  public int idleCount() {
    lock.lock();
    try {
      return idle.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    List<Connection> drained;
    lock.lock();
    try {
      closed = true;
      drained = drainIdle();
      for (Waiter w : waiters) {
        w.wakeup.signal(); // waiting requests fail now rather than at their deadline
      }
    } finally {
      lock.unlock();
    }
    closeAll(drained);
  }

  /** A transport with the buffered streams the codec uses on it. */
  static final class Connection {
    private final Transport transport;
    private final TransportPool pool;
    final ConnectionInput in;
    final java.io.BufferedOutputStream out;
    /** Whether this exchange got it from the pool, used before: then it may turn out stale. */
    private boolean reused;

    Connection(Transport transport, TransportPool pool) throws IOException {
      this.transport = transport;
      this.pool = pool;
      this.in = new ConnectionInput(transport.input(), 16 * 1024);
      this.out = new java.io.BufferedOutputStream(transport.output(), 16 * 1024);
    }

    Transport transport() {
      return transport;
    }

    boolean reused() {
      return reused;
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
