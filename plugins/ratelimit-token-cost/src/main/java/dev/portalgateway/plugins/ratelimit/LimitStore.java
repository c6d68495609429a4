package dev.portalgateway.plugins.ratelimit;

import java.time.Duration;
import java.util.List;

/**
 * Where the counters of the limits live: in this process ({@code store: local}) or in Redis,
 * shared by every gateway replica ({@code store: redis}). Two kinds of counter:
 *
 * <ul>
 *   <li>token buckets for request rates: {@code burst} tokens, refilled at {@code ratePerSecond};
 *       each request takes one;
 *   <li>fixed-window counters for budgets (tokens, or money in micro-units): windows aligned to the
 *       epoch ({@code [k*window, (k+1)*window)}), reserved before a request and settled after it.
 * </ul>
 *
 * <p>Every operation is atomic per key, also across replicas. Implementations never block longer
 * than their configured timeout: when the store cannot answer they throw
 * {@link StoreUnavailableException} and the caller applies the configured failure policy.
 * Arguments outside the documented ranges (a rate that is not positive, a window that is not a
 * whole number of milliseconds, a negative amount) are the caller's bug: they throw
 * {@link IllegalArgumentException}. Implementations are thread-safe.
 */
interface LimitStore extends AutoCloseable {

  /**
   * Takes one token from every bucket, or from none: when any of them has no token, the others
   * keep theirs. A request limited in several dimensions (its principal, its address, its lease,
   * the whole gateway) is then refused without using up its allowance in the others, and a shared
   * store answers for all of them in one round trip.
   *
   * @param buckets the request's buckets, each key at most once
   * @return what each bucket had, in the same order: {@link BucketResult#allowed()} when it had a
   *     token. The tokens were taken only when every bucket had one.
   */
  List<BucketResult> takeAll(List<RateBucket> buckets) throws StoreUnavailableException;

  /**
   * Takes one token from a bucket, if it has one.
   *
   * @param key the bucket, such as {@code "req:ip:192.0.2.1"}; the store adds its own prefix
   * @param ratePerSecond tokens added per second, &gt; 0
   * @param burst the bucket's capacity, ≥ 1; a new bucket starts full
   * @return what happened
   */
  default BucketResult take(String key, double ratePerSecond, long burst) throws StoreUnavailableException {
    return takeAll(List.of(new RateBucket(key, ratePerSecond, burst))).getFirst();
  }

  /**
   * Adds {@code amount} to the counter of the current window of {@code key}, unless the counter
   * would then exceed {@code limit}; in that case nothing changes.
   *
   * @param key the budget, such as {@code "budget:principal:abc:tokens"}
   * @param window the window length, such as one minute or one day
   * @param limit the most the window may hold
   * @param amount what to reserve, ≥ 0
   * @return what happened, with the window it happened in (for {@link #settle})
   */
  BudgetResult reserve(String key, Duration window, long limit, long amount) throws StoreUnavailableException;

  /**
   * Adds {@code delta} (negative to give some back) to the counter of one window, whatever the
   * limit: the real usage of a request once it is known. A counter never goes below zero.
   *
   * @param windowStartMillis the window of the reservation ({@link BudgetResult#windowStartMillis()})
   */
  void settle(String key, Duration window, long windowStartMillis, long delta) throws StoreUnavailableException;

  /** @return the counter of the current window of {@code key}; 0 when nothing was counted */
  long used(String key, Duration window) throws StoreUnavailableException;

  /** Releases what the store holds (connections, memory); calls afterwards are not supported. */
  @Override
  void close();
}
