package dev.portalgateway.plugins.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.plugins.webhook.DeliveryPolicy.Verdict;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeliveryPolicyTest {
  private final DeliveryPolicy policy = new DeliveryPolicy(12, 72 * 3_600_000L, 5_000, 3_600_000, List.of(408, 409, 425, 429),
      true, 30_000);

  @Test
  void backoffIsFullJitterUnderADoublingCeilingCappedAtMaxBackoff() {
    long[] ceilings = {5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 3_600_000,
        3_600_000};
    for (int failures = 1; failures <= ceilings.length; failures++) {
      long most = 0;
      long least = Long.MAX_VALUE;
      for (int i = 0; i < 2_000; i++) {
        long wait = policy.backoffMillis(failures);
        assertThat(wait).isBetween(0L, ceilings[failures - 1]);
        most = Math.max(most, wait);
        least = Math.min(least, wait);
      }
      // Spread over the whole range, not a fixed delay: both ends are reached in 2,000 draws.
      assertThat(most).isGreaterThan(ceilings[failures - 1] * 9 / 10);
      assertThat(least).isLessThan(ceilings[failures - 1] / 10);
    }
    assertThat(policy.backoffMillis(500)).isBetween(0L, 3_600_000L); // no overflow for huge counts
  }

  @Test
  void verdictsFollowTheStatus() {
    assertThat(policy.judge(200)).isEqualTo(Verdict.DELIVERED);
    assertThat(policy.judge(204)).isEqualTo(Verdict.DELIVERED);
    assertThat(policy.judge(410)).isEqualTo(Verdict.PAUSE);
    assertThat(policy.judge(400)).isEqualTo(Verdict.DEAD);
    assertThat(policy.judge(404)).isEqualTo(Verdict.DEAD);
    for (int retried : new int[] {301, 408, 409, 425, 429, 500, 502, 503, 504}) {
      assertThat(policy.judge(retried)).as("status %d", retried).isEqualTo(Verdict.RETRY);
    }
    DeliveryPolicy lenient = new DeliveryPolicy(3, 1000, 10, 10, List.of(), false, 1000);
    assertThat(lenient.judge(400)).isEqualTo(Verdict.RETRY);
  }

  @Test
  void retryAfterReadsSecondsAndHttpDates() {
    Instant now = Instant.parse("2026-12-07T10:00:00Z");
    assertThat(DeliveryLoop.retryAfter("120", now)).isEqualTo(now.plusSeconds(120));
    assertThat(DeliveryLoop.retryAfter("Mon, 07 Dec 2026 10:05:00 GMT", now)).isEqualTo(now.plusSeconds(300));
    assertThat(DeliveryLoop.retryAfter("-5", now)).isNull();
    assertThat(DeliveryLoop.retryAfter("soon", now)).isNull();
    assertThat(DeliveryLoop.retryAfter(null, now)).isNull();
    assertThat(DeliveryLoop.retryAfter("99999999999", now)).isEqualTo(now.plusSeconds(30L * 24 * 3600)); // capped
  }

  @Test
  void selectionsForChangesMustNameSomething() throws Exception {
    Instant now = Instant.parse("2026-12-07T10:00:00Z");
    assertThatThrownBy(() -> QueueOperations.selection(Map.of(), now, true))
        .hasMessageContaining("say which webhooks");
    assertThatThrownBy(() -> QueueOperations.selection(Map.of("state", "in_flight"), now, true))
        .hasMessageContaining("in flight");
    assertThatThrownBy(() -> QueueOperations.selection(Map.of("state", "lost"), now, false))
        .hasMessageContaining("state is one of");
    assertThatThrownBy(() -> QueueOperations.selection(Map.of("since", "yesterday"), now, false))
        .hasMessageContaining("since is an instant");
    WebhookStore.Selection s = QueueOperations.selection(Map.of("id", "a, b", "since", "2h", "state", "dead"), now, true);
    assertThat(s.ids()).containsExactly("a", "b");
    assertThat(s.since()).isEqualTo(now.minusSeconds(7200));
    assertThat(s.state()).isEqualTo("dead");
    assertThat(QueueOperations.selection(Map.of("since", "2026-12-01T00:00:00Z"), now, false).since())
        .isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
  }

  @Test
  void shownHeadersHaveSecretsRedacted() {
    Map<String, String> shown = QueueOperations.redacted(dev.portalgateway.api.Headers.of("Authorization", "Bearer x",
        "X-Hub-Signature-256", "sha256=ab", "Stripe-Signature", "t=1,v1=ab", "Cookie", "s=1", "X-Api-Key", "k",
        "Content-Type", "application/json", "X-GitHub-Event", "push"));
    assertThat(shown).containsEntry("Content-Type", "application/json").containsEntry("X-GitHub-Event", "push");
    assertThat(shown).containsEntry("Authorization", "[redacted]").containsEntry("X-Hub-Signature-256", "[redacted]")
        .containsEntry("Stripe-Signature", "[redacted]").containsEntry("Cookie", "[redacted]")
        .containsEntry("X-Api-Key", "[redacted]");
  }
}
