package dev.portalgateway.plugins.cache;

import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.Map;

/** The cache's metrics and log lines. Labels: a kind, a result, a cause; never a key or a lease's data. */
final class Telemetry {
  private final PluginContext context;
  private final PluginMetrics.Counter requests;
  private final PluginMetrics.Counter mcpCalls;
  private final PluginMetrics.Counter evictions;
  private final PluginMetrics.Counter invalidations;
  private final PluginMetrics.Gauge bytes;
  private final PluginMetrics.Gauge entries;

  Telemetry(PluginContext context) {
    this.context = context;
    PluginMetrics m = context.metrics();
    requests = m.counter("requests_total", "Requests by kind (mcp, http) and result (hit, miss, bypass); "
        + "coalesced counts misses answered by another request's upstream call.", "kind", "result");
    mcpCalls = m.counter("mcp_calls_total", "Cacheable MCP calls by method and result (hit, miss, coalesced, "
        + "unknown_session: a session this gateway did not see start, always forwarded).", "method", "result");
    evictions = m.counter("evictions_total", "Entries evicted, by cause (size, expired).", "cause");
    invalidations = m.counter("invalidations_total", "Entries dropped by list_changed notifications (tools, prompts, "
        + "resources) or by a purge.", "reason");
    bytes = m.gauge("bytes", "Bytes the cache holds, as weighed.");
    entries = m.gauge("entries", "Entries the cache holds.");
  }

  void request(String kind, String result) {
    requests.inc(kind, result);
  }

  /** @param method a cacheable method (bounded by the configuration), never a value from a request alone */
  void mcpCall(String method, String result) {
    mcpCalls.inc(method, result);
  }

  void evicted(RemovalCause cause) {
    evictions.inc(cause.name().toLowerCase(Locale.ROOT));
  }

  void invalidated(String reason, String lease, int count) {
    invalidations.add(count, reason);
    context.event(Level.INFO, "cache entries dropped", Map.of("reason", reason, "lease", lease, "entries", count));
  }

  void size(ResponseCache cache) {
    bytes.set(cache.bytes());
    entries.set(cache.size());
  }
}
