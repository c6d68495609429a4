package dev.portalgateway.plugins.ratelimit;

import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One token from the ratelimit-token-cost plugin's in-memory store ({@code store: local}), the
 * call a rate-limited request makes once per configured bucket (global, per lease, per
 * principal, per client address). Single-threaded, with the system clock, as the plugin runs it.
 *
 * <ul>
 *   <li>{@code take}, {@code keys=1}: one bucket, always hot (a global or per-lease limit).
 *   <li>{@code take}, {@code keys=10000}: ten thousand callers in turn (per-address limits), every
 *       bucket held: each call misses the CPU caches.
 *   <li>{@code take}, {@code keys=1000000}: more callers than the store's 100,000 entries, so the
 *       cache evicts as fast as it creates: what a client that invents addresses or keys causes.
 *   <li>{@code takeRefused}: one bucket that is empty, the path of a client over its limit.
 * </ul>
 *
 * <p>{@code take} uses a rate so high that every call is allowed, so it measures the common path,
 * not a mix. In this package because the store is package-private.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenBucketBenchmark {
  /** Refills faster than any caller takes, so every take is allowed. */
  private static final double ENDLESS_RATE = 1e12;
  private static final long ENDLESS_BURST = 1_000_000_000_000L;

  @Benchmark
  public BucketResult take(Buckets s) {
    String key = s.keys[s.next];
    s.next = s.next + 1 == s.keys.length ? 0 : s.next + 1;
    return s.store.take(key, ENDLESS_RATE, ENDLESS_BURST);
  }

  @Benchmark
  public BucketResult takeRefused(EmptyBucket s) {
    return s.store.take(s.key, EmptyBucket.RATE, 1);
  }

  /** A store and the keys to take from, in a fixed order. */
  @State(Scope.Thread)
  public static class Buckets {
    @Param({"1", "10000", "1000000"})
    int keyCount;

    LocalLimitStore store;
    String[] keys;
    int next;

    @Setup(Level.Trial)
    public void setUp() {
      store = new LocalLimitStore(Clock.systemUTC());
      keys = new String[keyCount];
      for (int i = 0; i < keyCount; i++) {
        // The plugin's per-address key: "req:ip:" and the address.
        keys[i] = "req:ip:10." + (i >>> 16 & 0xFF) + "." + (i >>> 8 & 0xFF) + "." + (i & 0xFF);
      }
      for (String key : keys) {
        if (!store.take(key, ENDLESS_RATE, ENDLESS_BURST).allowed()) {
          throw new IllegalStateException("a fresh bucket refused");
        }
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      store.close();
    }
  }

  /** A store with one bucket that was emptied and refills once in a thousand seconds. */
  @State(Scope.Thread)
  public static class EmptyBucket {
    static final double RATE = 0.001;

    LocalLimitStore store;
    final String key = "req:principal:key_bench";

    @Setup(Level.Trial)
    public void setUp() {
      store = new LocalLimitStore(Clock.systemUTC());
      store.take(key, RATE, 1);
      if (store.take(key, RATE, 1).allowed()) {
        throw new IllegalStateException("the emptied bucket allowed a request");
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      store.close();
    }
  }
}
