package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The plugin's metrics. The {@code route} label takes the routes where the plugin is enabled,
 * which the configuration bounds; enable it per route (docs/plugins/webhook-retry.md).
 */
final class Telemetry {
  private final PluginMetrics.Counter received;
  private final PluginMetrics.Counter attempts;
  private final PluginMetrics.Gauge queued;
  private final PluginMetrics.Gauge oldest;
  private final PluginMetrics.Gauge paused;
  private final PluginMetrics.Histogram acceptSeconds;
  private final Set<String> seenSeries = new HashSet<>();

  Telemetry(PluginContext context) {
    PluginMetrics m = context.metrics();
    received = m.counter("received_total", "Webhooks received, by route and result (queued, duplicate, "
        + "passed: try-then-queue delivered at once, too_large, bad_signature, store_failed).", "route", "result");
    attempts = m.counter("attempts_total", "Delivery attempts, by route and outcome (delivered, retry, dead, paused).",
        "route", "outcome");
    queued = m.gauge("webhooks", "Webhooks in the queue, by route and state (pending, in_flight, delivered, dead: "
        + "the dead-letter queue).", "route", "state");
    oldest = m.gauge("oldest_pending_seconds", "Age of the oldest webhook not yet delivered, by route.", "route");
    paused = m.gauge("route_paused", "1 while delivery to a route is stopped after a 410 Gone, until resumed.", "route");
    acceptSeconds = m.histogram("accept_seconds", "Time from a webhook's arrival to its durable store (the fsync).");
  }

  void received(String route, String result) {
    received.inc(route, result);
  }

  void accepted(Duration took) {
    acceptSeconds.observe(took.toNanos() / 1e9);
  }

  void attempt(String route, String outcome) {
    attempts.inc(route, outcome);
  }

  /** Sets the queue gauges; routes and states that emptied go to zero rather than keeping old values. */
  synchronized void queue(WebhookStore.Stats stats, Instant now) {
    Set<String> current = new HashSet<>();
    for (Map.Entry<String, Map<String, Long>> route : stats.counts().entrySet()) {
      for (String state : WebhookStore.STATES) {
        queued.set(route.getValue().getOrDefault(state, 0L), route.getKey(), state);
      }
      Instant first = stats.oldestPending().get(route.getKey());
      oldest.set(first == null ? 0 : Math.max(0, Duration.between(first, now).toMillis() / 1000.0), route.getKey());
      paused.set(stats.paused().containsKey(route.getKey()) ? 1 : 0, route.getKey());
      current.add(route.getKey());
    }
    for (String route : stats.paused().keySet()) {
      paused.set(1, route);
      current.add(route);
    }
    for (String gone : seenSeries) {
      if (!current.contains(gone)) {
        for (String state : WebhookStore.STATES) {
          queued.set(0, gone, state);
        }
        oldest.set(0, gone);
        paused.set(0, gone);
      }
    }
    seenSeries.addAll(current);
  }
}
