package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LimitStore} must do, run against each store by a subclass.
 *
 * <p>Time: the local store's clock is the test's, so {@link #letTimePass} moves it; Redis uses its
 * own clock, so there it sleeps. Tests therefore never assert on measured durations: they use rates
 * slow enough that a few calls cannot refill a token, or they poll for an outcome with a generous
 * bound on the number of attempts.
 */
abstract class LimitStoreContract {
  /** So long that no window boundary falls inside a test (one per 1000 days since the epoch). */
  static final Duration LONG_WINDOW = Duration.ofDays(1000);
  /** Short enough to see several windows go by. */
  static final Duration SHORT_WINDOW = Duration.ofMillis(200);

  LimitStore store;
  /** Unique per test, so tests sharing a Redis server never see each other's counters. */
  String prefix;

  /** @return a new store, closed after each test */
  abstract LimitStore newStore();

  /** Lets at least {@code d} pass for the store. */
  abstract void letTimePass(Duration d);

  @BeforeEach
  void createStore() {
    store = newStore();
    prefix = "t-" + UUID.randomUUID() + ":";
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  String key(String name) {
    return prefix + name;
  }

  @Test
  void aBucketAllowsItsBurstThenRefusesWithTheTimeUntilATokenIsBack() throws Exception {
    // 0.1 tokens/s: the calls below cannot earn a token back in the time they take.
    for (int i = 1; i <= 3; i++) {
      BucketResult r = store.take(key("b"), 0.1, 3);
      assertThat(r.allowed()).as("take %d", i).isTrue();
      assertThat(r.remaining()).isEqualTo(3 - i);
      assertThat(r.limit()).isEqualTo(3);
      assertThat(r.retryAfter()).isZero();
      assertThat(r.reset()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(30));
    }
    BucketResult refused = store.take(key("b"), 0.1, 3);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.remaining()).isZero();
    assertThat(refused.limit()).isEqualTo(3);
    assertThat(refused.retryAfter()).isGreaterThan(Duration.ofSeconds(9)).isLessThanOrEqualTo(Duration.ofSeconds(10));
    assertThat(refused.reset()).isGreaterThan(Duration.ofSeconds(29)).isLessThanOrEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aRefusedBucketGetsTokensBackAtItsRateButNeverMoreThanItsBurst() throws Exception {
    BucketResult r = store.take(key("b"), 50, 2);
    for (int i = 0; i < 100 && r.allowed(); i++) {
      r = store.take(key("b"), 50, 2);
    }
    assertThat(r.allowed()).as("refused once the burst is used").isFalse();
    assertThat(r.retryAfter()).as("50/s: a token every 20ms").isPositive().isLessThanOrEqualTo(Duration.ofMillis(20));

    for (int i = 0; i < 400 && !r.allowed(); i++) {
      letTimePass(Duration.ofMillis(5));
      r = store.take(key("b"), 50, 2);
    }
    assertThat(r.allowed()).as("a token came back").isTrue();

    letTimePass(Duration.ofMillis(200)); // worth 10 tokens, but the bucket holds 2
    BucketResult full = store.take(key("b"), 50, 2);
    assertThat(full.allowed()).isTrue();
    assertThat(full.remaining()).isLessThanOrEqualTo(1);
  }

  @Test
  void aBudgetReservesUpToItsLimitThenRefuses() throws Exception {
    BudgetResult first = store.reserve(key("budget"), LONG_WINDOW, 100, 60);
    assertThat(first.allowed()).isTrue();
    assertThat(first.used()).isEqualTo(60);
    assertThat(first.limit()).isEqualTo(100);
    assertThat(first.windowStartMillis() % LONG_WINDOW.toMillis()).as("aligned to the epoch").isZero();
    assertThat(first.reset()).isPositive().isLessThanOrEqualTo(LONG_WINDOW);

    BudgetResult second = store.reserve(key("budget"), LONG_WINDOW, 100, 40);
    assertThat(second.allowed()).isTrue();
    assertThat(second.used()).isEqualTo(100);
    assertThat(second.windowStartMillis()).isEqualTo(first.windowStartMillis());

    BudgetResult refused = store.reserve(key("budget"), LONG_WINDOW, 100, 1);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.used()).as("unchanged").isEqualTo(100);
    assertThat(refused.windowStartMillis()).isEqualTo(first.windowStartMillis());
    assertThat(store.reserve(key("budget"), LONG_WINDOW, 100, 0).allowed()).as("nothing more fits").isTrue();
    assertThat(store.used(key("budget"), LONG_WINDOW)).isEqualTo(100);

    BudgetResult tooBig = store.reserve(key("other"), LONG_WINDOW, 100, 101);
    assertThat(tooBig.allowed()).isFalse();
    assertThat(tooBig.used()).isZero();
    assertThat(store.used(key("other"), LONG_WINDOW)).isZero();
    assertThat(store.used(key("never-used"), LONG_WINDOW)).isZero();
  }

  @Test
  void settleAdjustsItsWindowBothWaysAndNeverBelowZero() throws Exception {
    BudgetResult r = store.reserve(key("budget"), LONG_WINDOW, 100, 10);
    long start = r.windowStartMillis();
    store.settle(key("budget"), LONG_WINDOW, start, 5);
    assertThat(store.used(key("budget"), LONG_WINDOW)).isEqualTo(15);
    store.settle(key("budget"), LONG_WINDOW, start, -3);
    assertThat(store.used(key("budget"), LONG_WINDOW)).isEqualTo(12);
    store.settle(key("budget"), LONG_WINDOW, start, -100);
    assertThat(store.used(key("budget"), LONG_WINDOW)).isZero();
    assertThat(store.reserve(key("budget"), LONG_WINDOW, 100, 100).allowed()).as("the whole budget is back").isTrue();

    store.settle(key("over"), LONG_WINDOW, start, 150); // settling ignores the limit: it is what was used
    assertThat(store.used(key("over"), LONG_WINDOW)).isEqualTo(150);
    assertThat(store.reserve(key("over"), LONG_WINDOW, 100, 0).allowed()).isFalse();

    store.settle(key("empty"), LONG_WINDOW, start, -5);
    assertThat(store.used(key("empty"), LONG_WINDOW)).isZero();
  }

  @Test
  void budgetWindowsRollOver() throws Exception {
    long length = SHORT_WINDOW.toMillis();
    BudgetResult first = store.reserve(key("budget"), SHORT_WINDOW, 5, 5);
    assertThat(first.allowed()).isTrue();
    assertThat(first.reset()).isPositive().isLessThanOrEqualTo(SHORT_WINDOW);

    // The first window is full, so only a later window can take 5 again.
    BudgetResult next = store.reserve(key("budget"), SHORT_WINDOW, 5, 5);
    for (int i = 0; i < 400 && !next.allowed(); i++) {
      assertThat(next.used()).isEqualTo(5);
      letTimePass(Duration.ofMillis(10));
      next = store.reserve(key("budget"), SHORT_WINDOW, 5, 5);
    }
    assertThat(next.allowed()).isTrue();
    assertThat(next.used()).isEqualTo(5);
    assertThat(next.windowStartMillis()).isGreaterThanOrEqualTo(first.windowStartMillis() + length);
    assertThat(next.windowStartMillis() % length).isZero();
    assertThat(next.reset()).isPositive().isLessThanOrEqualTo(SHORT_WINDOW);
  }

  @Test
  void settlingAnEndedWindowLeavesTheCurrentOneAlone() throws Exception {
    BudgetResult first = store.reserve(key("budget"), SHORT_WINDOW, 100, 3);
    BudgetResult later = first;
    for (int i = 0; i < 400 && later.windowStartMillis() == first.windowStartMillis(); i++) {
      letTimePass(Duration.ofMillis(10));
      later = store.reserve(key("budget"), SHORT_WINDOW, 100, 0);
    }
    assertThat(later.windowStartMillis()).isGreaterThan(first.windowStartMillis());
    store.settle(key("budget"), SHORT_WINDOW, first.windowStartMillis(), 50);
    assertThat(store.used(key("budget"), SHORT_WINDOW)).isLessThan(50);
  }

  @Test
  void keysAreIndependent() throws Exception {
    assertThat(store.take(key("a"), 0.1, 1).allowed()).isTrue();
    assertThat(store.take(key("a"), 0.1, 1).allowed()).isFalse();
    BucketResult b = store.take(key("b"), 0.1, 1);
    assertThat(b.allowed()).isTrue();
    assertThat(b.remaining()).isZero();

    assertThat(store.reserve(key("a"), LONG_WINDOW, 10, 10).allowed()).isTrue();
    assertThat(store.reserve(key("a"), LONG_WINDOW, 10, 1).allowed()).isFalse();
    assertThat(store.reserve(key("b"), LONG_WINDOW, 10, 10).allowed()).isTrue();
  }

  @Test
  void concurrentTakesNeverGetMoreThanTheBurst() throws Exception {
    assertThat(countAllowed(List.of(store), 200, s -> s.take(key("hot"), 0.001, 50).allowed())).isEqualTo(50);
  }

  @Test
  void aRequestRefusedByOneOfItsBucketsTakesNoTokenFromTheOthers() throws Exception {
    RateBucket roomy = new RateBucket(key("roomy"), 0.1, 3);
    RateBucket tight = new RateBucket(key("tight"), 0.1, 1);
    List<BucketResult> first = store.takeAll(List.of(roomy, tight));
    assertThat(first).extracting(BucketResult::allowed).containsExactly(true, true);
    assertThat(first).extracting(BucketResult::remaining).containsExactly(2L, 0L);

    List<BucketResult> refused = store.takeAll(List.of(roomy, tight));
    assertThat(refused).extracting(BucketResult::allowed).containsExactly(true, false);
    assertThat(refused.get(1).retryAfter()).isGreaterThan(Duration.ofSeconds(9)).isLessThanOrEqualTo(Duration.ofSeconds(10));
    assertThat(refused.get(1).limit()).isEqualTo(1);

    // The refused request left "roomy" its two tokens.
    assertThat(store.take(roomy.key(), 0.1, 3).remaining()).isEqualTo(1);
    assertThat(store.take(roomy.key(), 0.1, 3).remaining()).isZero();
    assertThat(store.take(roomy.key(), 0.1, 3).allowed()).isFalse();
    assertThat(store.takeAll(List.of())).isEmpty();
  }

  @Test
  void concurrentRequestsOverSeveralBucketsAreAdmittedByTheTightestAndCostTheOthersNothingMore() throws Exception {
    RateBucket roomy = new RateBucket(key("roomy"), 0.001, 50);
    RateBucket tight = new RateBucket(key("tight"), 0.001, 30);
    assertThat(countAllowed(List.of(store), 200,
        s -> s.takeAll(List.of(roomy, tight)).stream().allMatch(BucketResult::allowed))).isEqualTo(30);
    // Only the 30 admitted requests took from "roomy": 20 tokens are left.
    assertThat(countAllowed(List.of(store), 40, s -> s.take(roomy.key(), 0.001, 50).allowed())).isEqualTo(20);
  }

  @Test
  void concurrentReservationsNeverExceedTheLimit() throws Exception {
    assertThat(countAllowed(List.of(store), 200, s -> s.reserve(key("hot"), LONG_WINDOW, 50, 1).allowed())).isEqualTo(50);
    assertThat(store.used(key("hot"), LONG_WINDOW)).isEqualTo(50);
  }

  interface StoreCall {
    boolean call(LimitStore store) throws Exception;
  }

  /**
   * Makes {@code calls} calls at once, each on its own virtual thread, spread over {@code stores}.
   *
   * @return how many returned true; any exception fails the test
   */
  static int countAllowed(List<LimitStore> stores, int calls, StoreCall call) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Boolean>> results = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < calls; i++) {
        LimitStore s = stores.get(i % stores.size());
        results.add(threads.submit(() -> {
          go.await();
          return call.call(s);
        }));
      }
      go.countDown();
    }
    int allowed = 0;
    for (Future<Boolean> f : results) {
      allowed += f.get() ? 1 : 0;
    }
    return allowed;
  }
}
