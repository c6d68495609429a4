package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.PluginMetrics;
import io.prometheus.client.CollectorRegistry;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusPluginMetricsTest {
  @Test
  void aMetricsSeriesAreBoundedAndThoseBeyondAreCountedAsOther() {
    CollectorRegistry registry = new CollectorRegistry(true);
    Map<String, PrometheusPluginMetrics.Registered> store = PrometheusPluginMetrics.newStore();
    PluginMetrics metrics = new PrometheusPluginMetrics("ratelimit-token-cost", registry, store);
    PluginMetrics.Counter tokens = metrics.counter("tokens_total", "Tokens by model and kind.", "model", "kind");

    int limit = PrometheusPluginMetrics.MAX_SERIES_PER_METRIC;
    for (int i = 0; i < limit + 100; i++) {
      tokens.add(2, "model-" + i, "output"); // models come from requests: anyone can make one up
    }

    var samples = Collections.list(registry.metricFamilySamples()).stream()
        .flatMap(f -> f.samples.stream()).filter(s -> s.name.equals("portal_gateway_ratelimit_token_cost_tokens_total"))
        .toList();
    assertThat(samples).hasSize(limit + 1);
    assertThat(registry.getSampleValue("portal_gateway_ratelimit_token_cost_tokens_total",
        new String[] {"model", "kind"}, new String[] {"other", "other"})).isEqualTo(200.0);
    assertThat(registry.getSampleValue("portal_gateway_ratelimit_token_cost_tokens_total",
        new String[] {"model", "kind"}, new String[] {"model-0", "output"})).isEqualTo(2.0);
  }
}
