package dev.portalgateway.plugins.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FailureThrottleTest {
  private final AtomicLong nanos = new AtomicLong(1);
  private final FailureThrottle throttle = new FailureThrottle(3, Duration.ofMinutes(1), nanos::get);

  @Test
  void aClientIsBlockedAfterTheLimitAndOnlyThatClient() throws Exception {
    InetAddress a = InetAddress.getByName("192.0.2.1");
    InetAddress b = InetAddress.getByName("192.0.2.2");
    assertThat(throttle.recordFailure(a)).isFalse();
    assertThat(throttle.recordFailure(a)).isFalse();
    assertThat(throttle.blocked(a)).isFalse();
    assertThat(throttle.recordFailure(a)).as("the failure that reaches the limit is reported once").isTrue();
    assertThat(throttle.recordFailure(a)).isFalse();
    assertThat(throttle.blocked(a)).isTrue();
    assertThat(throttle.blocked(b)).isFalse();
    assertThat(throttle.retryAfterSeconds()).isEqualTo(60);
  }

  @Test
  void theWindowEnds() throws Exception {
    InetAddress a = InetAddress.getByName("192.0.2.1");
    for (int i = 0; i < 3; i++) {
      throttle.recordFailure(a);
    }
    assertThat(throttle.blocked(a)).isTrue();
    nanos.addAndGet(Duration.ofSeconds(61).toNanos());
    assertThat(throttle.blocked(a)).isFalse();
  }

  @Test
  void ipv6ClientsAreCountedPerSlash64() throws Exception {
    for (int i = 1; i <= 3; i++) {
      throttle.recordFailure(InetAddress.getByName("2001:db8:1:2::" + i));
    }
    assertThat(throttle.blocked(InetAddress.getByName("2001:db8:1:2:ffff::9"))).isTrue();
    assertThat(throttle.blocked(InetAddress.getByName("2001:db8:1:3::1"))).isFalse();
  }

  @Test
  void aLimitOfZeroTurnsItOff() throws Exception {
    FailureThrottle off = new FailureThrottle(0, Duration.ofMinutes(1));
    InetAddress a = InetAddress.getByName("192.0.2.1");
    for (int i = 0; i < 100; i++) {
      off.recordFailure(a);
    }
    assertThat(off.blocked(a)).isFalse();
  }
}
