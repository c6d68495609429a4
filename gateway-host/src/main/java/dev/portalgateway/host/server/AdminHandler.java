package dev.portalgateway.host.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The admin listener: {@code /metrics} (Prometheus text format), {@code /healthz} (the process
 * is alive), {@code /readyz} (send traffic: the gateway is serving and not draining), and the
 * endpoints plugins add under {@code /plugins/<plugin>/<name>}.
 * It listens on loopback by default, because metrics name every route and plugin endpoints have
 * no authentication of their own.
 */
final class AdminHandler implements HttpHandler {
  private final CollectorRegistry registry;
  private final Supplier<String> notReadyReason;
  private final Runnable beforeScrape;
  private final PluginEndpoints pluginEndpoints;
  private final AdminAccess access;

  /**
   * @param notReadyReason why the gateway should not get traffic, or {@code null} when it should
   * @param beforeScrape brings gauges that are read, not pushed, up to date
   * @param pluginEndpoints serves {@code /plugins/...} from the current configuration generation
   * @param access the Host names and token the listener accepts
   */
  AdminHandler(CollectorRegistry registry, Supplier<String> notReadyReason, Runnable beforeScrape,
      PluginEndpoints pluginEndpoints, AdminAccess access) {
    this.access = access;
    this.registry = registry;
    this.notReadyReason = notReadyReason;
    this.beforeScrape = beforeScrape;
    this.pluginEndpoints = pluginEndpoints;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    String rawPath = exchange.getRequestURI().getRawPath();
    AdminAccess.Refusal refusal = access.check(exchange.getRequestHeaders().getFirst("Host"),
        exchange.getRequestHeaders().getFirst("Authorization"), exchange.getRequestURI().getPath());
    if (refusal != null) {
      try (exchange) {
        if (refusal.status() == 401) {
          exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"portal-gateway-admin\"");
        }
        byte[] body = dev.portalgateway.api.Problem.of(refusal.status(), refusal.type(),
            refusal.status() == 401 ? "Unauthorized" : "Misdirected Request", refusal.detail(), null).toJson()
            .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", dev.portalgateway.api.Problem.MEDIA_TYPE);
        exchange.sendResponseHeaders(refusal.status(), body.length);
        exchange.getResponseBody().write(body);
      }
      return;
    }
    if (rawPath != null && rawPath.startsWith(PluginEndpoints.PREFIX)) {
      pluginEndpoints.serve(exchange); // closes the exchange itself: a failed stream must not end cleanly
      return;
    }
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      switch (path) {
        case "/metrics" -> metrics(exchange);
        case "/healthz" -> json(exchange, 200, "{\"status\":\"ok\"}");
        case "/readyz" -> {
          String reason = notReadyReason.get();
          json(exchange, reason == null ? 200 : 503, reason == null ? "{\"status\":\"ready\"}"
              : "{\"status\":\"not ready\",\"reason\":\"" + reason + "\"}");
        }
        default -> json(exchange, 404, "{\"status\":\"not found\",\"paths\":[\"/metrics\",\"/healthz\",\"/readyz\"]}");
      }
    }
  }

  private void metrics(HttpExchange exchange) throws IOException {
    beforeScrape.run();
    StringWriter text = new StringWriter(16 * 1024);
    TextFormat.write004(text, registry.metricFamilySamples());
    byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", TextFormat.CONTENT_TYPE_004);
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
  }

  private static void json(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

}
