package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The plugin's metrics and log lines. Labels stay low-cardinality: a dimension, a lease, a model
 * as named in the pricing table ({@code other} for the rest), never a key or an address.
 */
final class Telemetry {
  /** Store failures are logged at most this often; they are counted every time. */
  private static final long LOG_EVERY_NANOS = 10_000_000_000L;

  private final PluginContext context;
  private final PluginMetrics.Counter limited;
  private final PluginMetrics.Counter tokens;
  private final PluginMetrics.Counter cost;
  private final PluginMetrics.Counter unmetered;
  private final PluginMetrics.Counter storeFailures;
  private final PluginMetrics.Gauge remaining;
  private final AtomicLong lastFailureLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);

  Telemetry(PluginContext context) {
    this.context = context;
    PluginMetrics m = context.metrics();
    limited = m.counter("limited_total", "Requests refused with 429, by what refused them: global, lease, principal, "
        + "client_ip, budget_tokens, budget_cost.", "dimension");
    tokens = m.counter("tokens_total", "AI tokens used, by lease, model (as priced) and direction (input, output).",
        "lease", "model", "direction");
    cost = m.counter("cost_total", "Money spent, in the pricing table's currency, by lease and model.", "lease", "model");
    unmetered = m.counter("unmetered_responses_total",
        "Responses under a budget that reported no usage (charged no_usage_charge_tokens).", "lease");
    storeFailures = m.counter("store_failures_total", "Limit store calls that failed (Redis down, timeout), by operation.",
        "operation");
    // At 0 from the start, so that an alert on increase(...) sees the first failures too.
    for (String operation : new String[] {"take", "reserve", "settle", "release", "used", "startup"}) {
      storeFailures.add(0, operation);
    }
    remaining = m.gauge("budget_remaining", "What is left of a budget window, for the principals in report_principals.",
        "principal", "budget");
  }

  void limited(String dimension) {
    limited.inc(dimension);
  }

  void usage(String lease, String model, long input, long output, long micros, boolean unmeteredResponse) {
    tokens.add(input, lease, model, "input");
    tokens.add(output, lease, model, "output");
    cost.add(Pricing.fromMicros(micros), lease, model);
    if (unmeteredResponse) {
      unmetered.inc(lease);
    }
  }

  void remaining(String principal, String budget, double value) {
    remaining.set(value, principal, budget);
  }

  void storeFailure(String operation, Exception e) {
    storeFailures.inc(operation);
    long now = System.nanoTime();
    long last = lastFailureLog.get();
    if (now - last >= LOG_EVERY_NANOS && lastFailureLog.compareAndSet(last, now)) {
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("operation", operation);
      fields.put("error", e.getMessage());
      context.event(Level.WARNING, "rate-limit store unavailable", fields);
    }
  }
}
