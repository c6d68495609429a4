package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PricingTest {
  private final Pricing pricing = Pricing.of(Map.of(
      "default", Map.of("input_per_1k", 0.001, "output_per_1k", 0.002),
      "gpt-4o", Map.of("input_per_1k", 0.0025, "output_per_1k", 0.01),
      "gpt-4o-mini", 0.0006,
      "claude-sonnet", "0.015",
      "local", 0), "pricing");

  @Test
  void modelsMatchExactlyThenByLongestPrefixThenTheDefault() {
    assertThat(pricing.of("gpt-4o").name()).isEqualTo("gpt-4o");
    assertThat(pricing.of("gpt-4o-2024-08-06").name()).isEqualTo("gpt-4o");
    assertThat(pricing.of("gpt-4o-mini-2024-07-18").name()).isEqualTo("gpt-4o-mini");
    assertThat(pricing.of("mistral-large").name()).isEqualTo("other");
    assertThat(pricing.of(null).name()).isEqualTo("other");
  }

  @Test
  void costsAreCountedInMicroUnitsAndNeverRoundedDown() {
    // 1000 input at 0.0025 + 500 output at 0.01 = 0.0025 + 0.005
    assertThat(pricing.of("gpt-4o").micros(1000, 500)).isEqualTo(7_500);
    // The seed's shape: one number prices input and output alike.
    assertThat(pricing.of("claude-sonnet").micros(1000, 1000)).isEqualTo(30_000);
    assertThat(pricing.of("gpt-4o-mini").micros(1, 0)).isEqualTo(1); // 0.0000006 rounds up to one micro-unit
    assertThat(pricing.of("local").isFree()).isTrue();
    assertThat(pricing.of("local").micros(1_000_000, 1_000_000)).isZero();
  }

  @Test
  void withoutADefaultUnknownModelsAreFree() {
    assertThat(Pricing.of(Map.of("gpt-4o", 0.03), "p").of("other-model").isFree()).isTrue();
  }

  @Test
  void badEntriesNameTheirKey() {
    assertThatThrownBy(() -> Pricing.of(Map.of("gpt-4o", "cheap"), "plugins.x.pricing"))
        .hasMessageContaining("plugins.x.pricing.gpt-4o");
    assertThatThrownBy(() -> Pricing.of(Map.of("gpt-4o", Map.of("input", 1)), "p")).hasMessageContaining("input_per_1k");
    assertThatThrownBy(() -> Pricing.of(Map.of("gpt-4o", -1), "p")).hasMessageContaining("0 or more");
  }
}
