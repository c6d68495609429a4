package dev.portalgateway.plugins.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * Counters in this process's memory ({@code store: local}): each gateway replica counts alone.
 *
 * <p>Memory is bounded: at most {@value #MAX_ENTRIES} buckets and as many budget windows. A bucket
 * is forgotten once it would be full again (plus a margin), which changes nothing, since a new
 * bucket starts full; a window is forgotten a margin after it ends. Only when more keys than that
 * are active at once does the cache evict live counters, and then a client gets a fresh allowance:
 * the price of a bound that an attacker inventing keys cannot push.
 *
 * <p>Thread-safe: a bucket changes only under its own lock and a budget window only inside one
 * atomic {@code compute} on its key, so concurrent requests (on any number of virtual threads)
 * never take more than a bucket or window holds. Never throws {@link StoreUnavailableException}.
 */
final class LocalLimitStore implements LimitStore {
  static final int MAX_ENTRIES = 100_000;
  /** Kept past a bucket's refill and a window's end, so that late settles still find their window. */
  private static final long MARGIN_MILLIS = 2_000;
  /** Absorbs float rounding: 0.9999999999 tokens after a refill is one token. */
  private static final double EPSILON = 1e-9;

  private final Clock clock;
  private final Cache<String, Bucket> buckets;
  private final Cache<WindowKey, Counter> windows;

  /** @param clock the time source of refills and windows; tests pass one they move */
  LocalLimitStore(Clock clock) {
    this.clock = clock;
    // Expiry follows the same clock as the counters, so that a test's clock drives both.
    this.buckets = Caffeine.newBuilder()
        .maximumSize(MAX_ENTRIES)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new IdleLongerThanRefill())
        .build();
    this.windows = Caffeine.newBuilder()
        .maximumSize(MAX_ENTRIES)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new UntilMillis<WindowKey, Counter>(c -> c.endMillis))
        .build();
  }

  @Override
  public List<BucketResult> takeAll(List<RateBucket> buckets) {
    buckets.forEach(b -> LimitArguments.checkBucket(b.ratePerSecond(), b.burst()));
    long now = clock.millis();
    BucketResult[] results = new BucketResult[buckets.size()];
    Bucket[] taken = new Bucket[results.length];
    int refused = -1;
    for (int i = 0; i < results.length; i++) {
      RateBucket spec = buckets.get(i);
      // A read and a lock on the one bucket, not a compute: this runs for every request, and a
      // compute is a cache write (expiry bookkeeping under the map's bin lock) each time.
      Bucket b = bucketFor(spec, now);
      synchronized (b) {
        results[i] = b.take(now, spec.ratePerSecond(), spec.burst(), refused < 0);
      }
      if (refused < 0 && results[i].allowed()) {
        taken[i] = b;
      } else if (refused < 0) {
        refused = i;
        // All or nothing: the earlier buckets get their tokens back. Until they do, a concurrent
        // request may find one of them a token short, never a token over.
        for (int j = 0; j < i; j++) {
          synchronized (taken[j]) {
            taken[j].giveBack(buckets.get(j).burst());
          }
        }
      }
    }
    return Arrays.asList(results);
  }

  /** The same as {@link LimitStore#take}, declared without the exception this store never throws. */
  @Override
  public BucketResult take(String key, double ratePerSecond, long burst) {
    return takeAll(List.of(new RateBucket(key, ratePerSecond, burst))).getFirst();
  }

  private Bucket bucketFor(RateBucket spec, long now) {
    return buckets.get(spec.key(), k -> new Bucket(spec.burst(), now, Bucket.millisFor(spec.burst(), spec.ratePerSecond())));
  }

  @Override
  public BudgetResult reserve(String key, Duration window, long limit, long amount) {
    LimitArguments.checkBudget(window, limit, amount);
    long now = clock.millis();
    long length = window.toMillis();
    long start = Math.floorDiv(now, length) * length;
    BudgetResult[] result = new BudgetResult[1];
    windows.asMap().compute(new WindowKey(key, start), (k, counter) -> {
      Counter c = counter == null ? new Counter(start + length) : counter;
      boolean allowed = c.used + amount <= limit && c.used + amount >= c.used; // the second: no overflow
      if (allowed) {
        c.used += amount;
      }
      result[0] = new BudgetResult(allowed, c.used, limit, start, Duration.ofMillis(start + length - now));
      return c;
    });
    return result[0];
  }

  @Override
  public void settle(String key, Duration window, long windowStartMillis, long delta) {
    LimitArguments.checkWindow(window);
    if (delta == 0) {
      return;
    }
    long now = clock.millis();
    long end = windowStartMillis + window.toMillis();
    windows.asMap().compute(new WindowKey(key, windowStartMillis), (k, counter) -> {
      if (counter == null) {
        // Nothing was reserved, or the window is over and forgotten: only a current window needs a count.
        return delta > 0 && now < end ? new Counter(end, delta) : null;
      }
      long sum = counter.used + delta;
      // Never below zero; and on overflow (delta near Long.MAX_VALUE) stop at the largest count.
      counter.used = delta > 0 && sum < counter.used ? Long.MAX_VALUE : Math.max(0, sum);
      return counter;
    });
  }

  @Override
  public long used(String key, Duration window) {
    LimitArguments.checkWindow(window);
    long length = window.toMillis();
    Counter c = windows.getIfPresent(new WindowKey(key, Math.floorDiv(clock.millis(), length) * length));
    return c == null ? 0 : c.used;
  }

  /** Forgets every counter. */
  @Override
  public void close() {
    buckets.invalidateAll();
    windows.invalidateAll();
  }

  /** @return how many buckets and windows are held (approximately), for tests */
  long size() {
    buckets.cleanUp();
    windows.cleanUp();
    return buckets.estimatedSize() + windows.estimatedSize();
  }

  /** A token bucket; changed only while its monitor is held. */
  private static final class Bucket {
    private double tokens;
    private long lastMillis;
    /** How long this bucket takes to fill from empty: it may be forgotten after that long unused. */
    private volatile long refillMillis;

    Bucket(long burst, long now, long refillMillis) {
      this.tokens = burst;
      this.lastMillis = now;
      this.refillMillis = refillMillis;
    }

    /**
     * Refills by the time elapsed, then takes a token if there is one and {@code takeIfThere}.
     *
     * @return {@code allowed} when the bucket had a token (taken or not)
     */
    BucketResult take(long now, double rate, long burst, boolean takeIfThere) {
      // A clock stepped back refills nothing, and refilling resumes from the new time.
      double refill = now > lastMillis ? (now - lastMillis) * rate / 1000.0 : 0;
      tokens = Math.min(burst, tokens + refill);
      lastMillis = now;
      boolean allowed = tokens >= 1 - EPSILON;
      Duration retryAfter = Duration.ZERO;
      if (allowed) {
        if (takeIfThere) {
          tokens = Math.max(0, tokens - 1);
        }
      } else {
        retryAfter = Duration.ofMillis(millisFor(1 - tokens, rate));
      }
      long toFull = millisFor(burst - tokens, rate);
      refillMillis = millisFor(burst, rate);
      return new BucketResult(allowed, (long) Math.floor(tokens + EPSILON), burst, Duration.ofMillis(toFull), retryAfter);
    }

    /** Returns a token taken by {@link #take}, as the request that took it was refused elsewhere. */
    void giveBack(long burst) {
      tokens = Math.min(burst, tokens + 1);
    }

    /** @return whole milliseconds (rounded up) for {@code tokens} to flow in, capped near 30,000 years */
    static long millisFor(double tokens, double rate) {
      return (long) Math.min(1e15, Math.ceil(tokens * 1000.0 / rate - EPSILON));
    }
  }

  /** A budget window's counter; changed only inside {@code compute} on its key. */
  private static final class Counter {
    private final long endMillis;
    private long used;

    Counter(long endMillis) {
      this(endMillis, 0);
    }

    Counter(long endMillis, long used) {
      this.endMillis = endMillis;
      this.used = used;
    }
  }

  private record WindowKey(String key, long startMillis) {}

  /**
   * Forgets a bucket once it has been unused for as long as it takes to fill from empty (plus a
   * margin): by then it is full, and a new bucket starts full, so forgetting it changes nothing.
   */
  private static final class IdleLongerThanRefill implements Expiry<String, Bucket> {
    @Override
    public long expireAfterCreate(String key, Bucket b, long currentTime) {
      return idle(b);
    }

    @Override
    public long expireAfterUpdate(String key, Bucket b, long currentTime, long currentDuration) {
      return idle(b);
    }

    @Override
    public long expireAfterRead(String key, Bucket b, long currentTime, long currentDuration) {
      return idle(b);
    }

    private static long idle(Bucket b) {
      return TimeUnit.MILLISECONDS.toNanos(Math.min(Long.MAX_VALUE / 2_000_000, saturatedAdd(b.refillMillis, MARGIN_MILLIS)));
    }
  }

  /** Expires an entry {@link #MARGIN_MILLIS} after the instant it names, whenever it is written. */
  private static final class UntilMillis<K, V> implements Expiry<K, V> {
    private final ToLongFunction<V> instant;

    UntilMillis(ToLongFunction<V> instant) {
      this.instant = instant;
    }

    @Override
    public long expireAfterCreate(K key, V value, long currentTime) {
      long until = TimeUnit.MILLISECONDS.toNanos(saturatedAdd(instant.applyAsLong(value), MARGIN_MILLIS));
      return Math.max(0, until - currentTime);
    }

    @Override
    public long expireAfterUpdate(K key, V value, long currentTime, long currentDuration) {
      return expireAfterCreate(key, value, currentTime);
    }

    @Override
    public long expireAfterRead(K key, V value, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }
}
