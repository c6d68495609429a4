package dev.portalgateway.redis;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Remembers that a server just failed, so that calls during a short cool-down fail at once instead
 * of each waiting for its own timeout: with a dead Redis, a request then costs microseconds, not
 * the timeout. After the cool-down one call (the probe) goes through; its success closes the
 * breaker, its failure starts another cool-down. Calls made while the probe runs still fail fast.
 *
 * <p>A refused or broken connection, or one that cannot be opened in time, opens the breaker at
 * once: the server is gone. A reply that is late opens it only when {@value #TIMEOUTS_TO_OPEN}
 * calls in a row were late, each made after the previous late one was seen: one slow moment (a
 * busy machine, a long-running command, a pause) makes every call then in flight late together,
 * and that is load, not an outage; opening the breaker for it would fail every request for the
 * cool-down (with {@code on_store_failure: closed}, a second of 503s). A server that stopped
 * answering costs a few rounds of timeouts, then nothing.
 *
 * <p>Thread-safe and lock-free: it sits on the path of every request.
 */
public final class CircuitBreaker {
  private final long cooldownNanos;
  private final LongSupplier nanoTime;
  /** When calls may try again, in {@link #nanoTime} terms; meaningful only while {@link #open}. */
  private volatile long retryAt;
  private volatile boolean open;
  private volatile String lastFailure = "";
  private final AtomicBoolean probing = new AtomicBoolean();
  /** Late replies since the last answer in time, counting those of one moment once. */
  private final AtomicInteger timeoutsInARow = new AtomicInteger();
  /** When the last counted late reply was seen, in {@link #nanoTime} terms. */
  private final AtomicLong lastTimeoutSeen;

  /** How many late replies in a row open the breaker. */
  public static final int TIMEOUTS_TO_OPEN = 3;

  CircuitBreaker(Duration cooldown) {
    this(cooldown, System::nanoTime);
  }

  /** @param nanoTime the time source; tests pass their own */
  CircuitBreaker(Duration cooldown, LongSupplier nanoTime) {
    this.cooldownNanos = cooldown.toNanos();
    this.nanoTime = nanoTime;
    this.lastTimeoutSeen = new AtomicLong(nanoTime.getAsLong() - (1L << 62)); // long before any call
  }

  /** @return the time now, in the terms {@link #timedOut} takes a call's start in */
  long now() {
    return nanoTime.getAsLong();
  }

  /**
   * @return whether a call may go to the server now: always while closed; after the cool-down, for
   *     exactly one caller at a time (the probe), who must then report {@link #succeeded},
   *     {@link #failed} or {@link #abandoned}
   */
  boolean tryPass() {
    if (!open) {
      return true;
    }
    // nanoTime values are compared by difference: they may be negative or wrap.
    return nanoTime.getAsLong() - retryAt >= 0 && probing.compareAndSet(false, true);
  }

  /** The server answered: close the breaker. */
  void succeeded() {
    timeoutsInARow.set(0);
    open = false;
    probing.set(false);
  }

  /**
   * The server did not answer a call in time: opens the breaker when this makes
   * {@value #TIMEOUTS_TO_OPEN} in a row, or when it is open already (a late probe). A call made
   * before the last counted late reply was seen was late for the same reason, and does not count.
   *
   * @param startedAt when the call started, from {@link #now}
   */
  void timedOut(String why, long startedAt) {
    if (open) {
      failed(why);
      return;
    }
    long last = lastTimeoutSeen.get();
    if (startedAt - last < 0 || !lastTimeoutSeen.compareAndSet(last, nanoTime.getAsLong())) {
      return;
    }
    if (timeoutsInARow.incrementAndGet() >= TIMEOUTS_TO_OPEN) {
      failed(why);
    }
  }

  /** The server failed: calls fail fast for the cool-down. */
  void failed(String why) {
    lastFailure = why == null ? "" : why;
    retryAt = nanoTime.getAsLong() + cooldownNanos;
    open = true;
    probing.set(false);
  }

  /**
   * The call ended without telling anything about the server (interrupted): let another probe go.
   * Called by a call that was not the probe, it may let a second probe run alongside; harmless.
   */
  void abandoned() {
    probing.set(false);
  }

  /** @return whether calls are failing fast */
  boolean isOpen() {
    return open;
  }

  /** @return what the last failure was, for the messages of calls refused while open */
  String lastFailure() {
    return lastFailure;
  }
}
