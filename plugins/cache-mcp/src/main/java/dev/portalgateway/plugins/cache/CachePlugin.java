package dev.portalgateway.plugins.cache;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Response;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code cache-mcp}: answers repeated MCP calls ({@code tools/list}, {@code resources/read}, ...)
 * and cacheable GETs from memory, so that they do not cross the relay to a laptop every time. See
 * docs/plugins/cache-mcp.md.
 */
public final class CachePlugin implements GatewayPlugin {
  /** The name that enables the plugin. */
  public static final String NAME = "cache-mcp";

  // Outlives configuration reloads, so that a reload does not empty the cache.
  private ResponseCache cache;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Phase phase() {
    return Phase.CACHE;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION; // compiled in: the API this jar was built against
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    CacheSettings settings = CacheSettings.from(config);
    Telemetry telemetry = new Telemetry(context);
    ResponseCache shared = cache(settings, telemetry);
    // Lasting: sessions started before a reload are still known after it.
    McpSessions sessions = context.lasting(McpSessions.class, lifetime -> new McpSessions(settings.mcp().sessionIdle()));
    CacheFilter filter = new CacheFilter(settings, shared, sessions, telemetry, context.clock());
    context.adminEndpoint("purge", request -> {
      if (!request.method().equals("POST")) {
        throw new ProblemException(Problem.of(405, "method-not-allowed", "Method Not Allowed",
            "Purge with POST.", "curl -X POST 'http://ADMIN/plugins/cache-mcp/purge?lease=NAME' (no lease: everything)"),
            Headers.of("Allow", "POST"), null);
      }
      String given = request.queryParameter("lease");
      String lease = given == null || given.isEmpty() ? null : given;
      int dropped = filter.purge(lease);
      return Response.of(200, Headers.of("Content-Type", "application/json"),
          Body.of("{\"purged\":" + dropped + ",\"lease\":" + (lease == null ? "null" : quote(lease)) + "}"));
    });
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("max_bytes", settings.maxBytes());
    fields.put("mcp_methods", String.join(",", settings.mcp().ttl().keySet()));
    fields.put("mcp_tools", String.join(",", settings.mcp().tools().keySet()));
    fields.put("http", settings.http().enabled());
    context.event(Level.INFO, "cache active", fields);
    // Expiry and eviction change the size between requests: keep the gauges current.
    context.scheduler().scheduleWithFixedDelay(() -> telemetry.size(shared), 5, 5, java.util.concurrent.TimeUnit.SECONDS);
    return filter;
  }

  private synchronized ResponseCache cache(CacheSettings settings, Telemetry telemetry) {
    if (cache == null) {
      // Evictions are counted by whichever generation's telemetry made the cache; the metric is
      // the same series across reloads, since the plugin's metrics are.
      cache = new ResponseCache(settings.maxBytes(), telemetry::evicted);
    }
    // A reload's new size applies once its filter serves (CacheFilter): this configuration may
    // still be rejected.
    return cache;
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c >= 0x20) {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
