package dev.portalgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final AtomicLong nanos = new AtomicLong(Long.MAX_VALUE - 500_000_000L); // nanoTime may wrap
  private final CircuitBreaker breaker = new CircuitBreaker(Duration.ofSeconds(1), nanos::get);

  @Test
  void closedLetsEveryCallThrough() {
    for (int i = 0; i < 3; i++) {
      assertThat(breaker.tryPass()).isTrue();
    }
    assertThat(breaker.isOpen()).isFalse();
  }

  @Test
  void aFailureRefusesCallsForTheCooldownThenLetsOneProbeThrough() {
    breaker.failed("ConnectException: Connection refused");
    assertThat(breaker.isOpen()).isTrue();
    assertThat(breaker.lastFailure()).contains("refused");
    assertThat(breaker.tryPass()).isFalse();
    nanos.addAndGet(Duration.ofMillis(999).toNanos());
    assertThat(breaker.tryPass()).isFalse();

    nanos.addAndGet(Duration.ofMillis(1).toNanos());
    assertThat(breaker.tryPass()).as("the probe").isTrue();
    assertThat(breaker.tryPass()).as("only one probe at a time").isFalse();

    breaker.succeeded();
    assertThat(breaker.isOpen()).isFalse();
    assertThat(breaker.tryPass()).isTrue();
    assertThat(breaker.tryPass()).isTrue();
  }

  @Test
  void aFailedProbeStartsAnotherCooldown() {
    breaker.failed("timeout");
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(breaker.tryPass()).isTrue();
    breaker.failed("timeout again");
    assertThat(breaker.tryPass()).isFalse();
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(breaker.tryPass()).isTrue();
  }

  @Test
  void anAbandonedProbeLetsAnotherOneGo() {
    breaker.failed("timeout");
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(breaker.tryPass()).isTrue();
    breaker.abandoned();
    assertThat(breaker.isOpen()).isTrue();
    assertThat(breaker.tryPass()).isTrue();
  }

  /** A call that starts now and is seen late 200 ms later. */
  private void lateCall(String why) {
    long started = breaker.now();
    nanos.addAndGet(Duration.ofMillis(200).toNanos());
    breaker.timedOut(why, started);
  }

  @Test
  void lateRepliesOpenTheBreakerOnlyWhenSeveralComeInARow() {
    for (int i = 1; i < CircuitBreaker.TIMEOUTS_TO_OPEN; i++) {
      lateCall("Redis did not answer in time");
    }
    assertThat(breaker.isOpen()).as("one short of the threshold").isFalse();
    breaker.succeeded(); // an answer in time starts the count again
    for (int i = 1; i < CircuitBreaker.TIMEOUTS_TO_OPEN; i++) {
      lateCall("Redis did not answer in time");
    }
    assertThat(breaker.isOpen()).isFalse();
    assertThat(breaker.tryPass()).isTrue();
    lateCall("Redis did not answer in time");
    assertThat(breaker.isOpen()).isTrue();
    assertThat(breaker.tryPass()).isFalse();
  }

  @Test
  void callsThatWereLateTogetherCountOnce() {
    // One stall: 64 calls in flight, all seen late at about the same moment.
    long started = breaker.now();
    nanos.addAndGet(Duration.ofMillis(200).toNanos());
    for (int i = 0; i < 64; i++) {
      breaker.timedOut("Redis did not answer in time", started);
      nanos.addAndGet(1_000);
    }
    assertThat(breaker.isOpen()).isFalse();
    assertThat(breaker.tryPass()).isTrue();
  }

  @Test
  void aLateProbeStartsAnotherCooldownAtOnce() {
    for (int i = 0; i < CircuitBreaker.TIMEOUTS_TO_OPEN; i++) {
      lateCall("late");
    }
    assertThat(breaker.isOpen()).isTrue();
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(breaker.tryPass()).as("the probe").isTrue();
    lateCall("late again");
    assertThat(breaker.tryPass()).isFalse();
  }
}
