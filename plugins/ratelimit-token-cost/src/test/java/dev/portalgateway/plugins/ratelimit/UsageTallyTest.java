package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageTallyTest {

  private static Usage usage(String json) {
    UsageTally tally = new UsageTally();
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    JsonNode root = UsageTally.parse(bytes, 0, bytes.length);
    tally.absorb(root);
    return tally.usage("m");
  }

  /**
   * Found by ScannerFuzzTest.eventStream: a count of 2^63 - 1 made the total negative, and an
   * input count plus a cache count wrapped around and was dropped; the settlement would have
   * given budget back. Counts now stop at 2^40.
   */
  @Test
  void hugeCountsSaturateInsteadOfWrappingAround() {
    Usage total = usage("{\"usage\":{\"input_tokens\":9223372036854775807,\"output_tokens\":1}}");
    assertThat(total.inputTokens()).isEqualTo(UsageTally.MAX_COUNT);
    assertThat(total.totalTokens()).isPositive();
    Usage cached = usage("{\"usage\":{\"input_tokens\":9223372036854775807,"
        + "\"cache_creation_input_tokens\":9223372036854775807,\"output_tokens\":1}}");
    assertThat(cached.inputTokens()).isEqualTo(2 * UsageTally.MAX_COUNT);
    Usage big = usage("{\"usage\":{\"prompt_tokens\":1e30,\"completion_tokens\":123456789012345678901234567890}}");
    assertThat(big.inputTokens()).isEqualTo(UsageTally.MAX_COUNT);
    assertThat(big.outputTokens()).isEqualTo(UsageTally.MAX_COUNT);
    assertThat(usage("{\"usage\":{\"input_tokens\":-5,\"output_tokens\":7.9}}").outputTokens()).isEqualTo(7);
  }
}
