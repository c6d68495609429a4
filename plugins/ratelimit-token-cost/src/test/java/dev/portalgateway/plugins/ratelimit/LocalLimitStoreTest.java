package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalLimitStoreTest extends LimitStoreContract {
  /** Not on a window boundary, so that alignment is tested rather than assumed. */
  private static final Instant START = Instant.parse("2025-03-01T12:00:59.500Z");

  private final MovableClock clock = new MovableClock(START.toEpochMilli());

  @Override
  LimitStore newStore() {
    return new LocalLimitStore(clock);
  }

  @Override
  void letTimePass(Duration d) {
    clock.advance(d);
  }

  private LocalLimitStore local() {
    return (LocalLimitStore) store;
  }

  @Test
  void refillIsContinuousAndExact() {
    for (int i = 2; i >= 0; i--) {
      assertThat(local().take("b", 2, 3).remaining()).isEqualTo(i);
    }
    BucketResult refused = local().take("b", 2, 3);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(500));
    assertThat(refused.reset()).isEqualTo(Duration.ofMillis(1500));

    clock.advance(Duration.ofMillis(499));
    refused = local().take("b", 2, 3);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(1));

    clock.advance(Duration.ofMillis(1));
    BucketResult allowed = local().take("b", 2, 3);
    assertThat(allowed.allowed()).isTrue();
    assertThat(allowed.remaining()).isZero();
    assertThat(allowed.retryAfter()).isZero();
    assertThat(allowed.reset()).isEqualTo(Duration.ofMillis(1500));

    clock.advance(Duration.ofMillis(250)); // half a token
    assertThat(local().take("b", 2, 3).retryAfter()).isEqualTo(Duration.ofMillis(250));

    clock.advance(Duration.ofHours(1));
    assertThat(local().take("b", 2, 3).remaining()).as("capped at the burst").isEqualTo(2);
  }

  @Test
  void slowRatesAndFractions() {
    assertThat(local().take("b", 0.1, 1).reset()).isEqualTo(Duration.ofSeconds(10));
    assertThat(local().take("b", 0.1, 1).retryAfter()).isEqualTo(Duration.ofSeconds(10));
    clock.advance(Duration.ofSeconds(10));
    assertThat(local().take("b", 0.1, 1).allowed()).as("0.1/s for 10s is exactly one token").isTrue();

    // 3/s: a third of a second is 333.33...ms; the result rounds up, never promising a token too early.
    local().take("c", 3, 1);
    assertThat(local().take("c", 3, 1).retryAfter()).isEqualTo(Duration.ofMillis(334));
    clock.advance(Duration.ofMillis(333));
    assertThat(local().take("c", 3, 1).allowed()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(local().take("c", 3, 1).allowed()).isTrue();
  }

  @Test
  void windowsAreAlignedToTheEpoch() {
    BudgetResult r = local().reserve("w", Duration.ofMinutes(1), 10, 1);
    assertThat(Instant.ofEpochMilli(r.windowStartMillis())).isEqualTo(Instant.parse("2025-03-01T12:00:00Z"));
    assertThat(r.reset()).isEqualTo(Duration.ofMillis(500));

    clock.advance(Duration.ofMillis(500));
    BudgetResult next = local().reserve("w", Duration.ofMinutes(1), 10, 1);
    assertThat(Instant.ofEpochMilli(next.windowStartMillis())).isEqualTo(Instant.parse("2025-03-01T12:01:00Z"));
    assertThat(next.used()).isEqualTo(1);
    assertThat(next.reset()).isEqualTo(Duration.ofMinutes(1));
    assertThat(local().used("w", Duration.ofMinutes(1))).isEqualTo(1);

    BudgetResult day = local().reserve("d", Duration.ofDays(1), 10, 1);
    assertThat(Instant.ofEpochMilli(day.windowStartMillis())).isEqualTo(Instant.parse("2025-03-01T00:00:00Z"));
  }

  @Test
  void settlingAWindowThatEndedAndWasForgottenChangesNothing() {
    BudgetResult r = local().reserve("w", Duration.ofMinutes(1), 10, 1);
    clock.advance(Duration.ofMinutes(5));
    local().settle("w", Duration.ofMinutes(1), r.windowStartMillis(), 7);
    assertThat(local().size()).as("no counter made for a window that is over").isZero();
  }

  @Test
  void idleCountersAreForgotten() {
    for (int i = 0; i < 1000; i++) {
      local().take("bucket-" + i, 10, 5);
      local().reserve("budget-" + i, Duration.ofMinutes(1), 10, 1);
    }
    assertThat(local().size()).isEqualTo(2000);
    // Buckets are full again after 0.1s, the windows end after 0.5s; then the margin.
    clock.advance(Duration.ofMillis(500 + 2_000 + 1));
    assertThat(local().size()).isZero();
  }

  @Test
  void aClockSteppedBackRefillsNothing() {
    local().take("b", 1, 1);
    clock.advance(Duration.ofSeconds(-30));
    assertThat(local().take("b", 1, 1).allowed()).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(local().take("b", 1, 1).allowed()).as("refilling resumes from the new time").isTrue();
  }

  @Test
  void badArgumentsAreTheCallersBug() {
    assertThatThrownBy(() -> local().take("b", 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> local().take("b", Double.NaN, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> local().take("b", 1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> local().reserve("w", Duration.ZERO, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> local().reserve("w", Duration.ofMinutes(1), 1, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  /** A clock the test moves by hand. */
  static final class MovableClock extends Clock {
    private final AtomicLong millis;

    MovableClock(long millis) {
      this.millis = new AtomicLong(millis);
    }

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
