package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginCommand;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code webhook-retry}: accepts webhooks durably and delivers them when the service is back,
 * with retries, a dead-letter queue and replay. See docs/plugins/webhook-retry.md.
 */
public final class WebhookRetryPlugin implements GatewayPlugin {
  /** The name that enables the plugin. */
  public static final String NAME = "webhook-retry";
  static final List<String> PARAMETERS = List.of("id", "state", "route", "since", "until", "limit");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Phase phase() {
    return Phase.DELIVER;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION; // compiled in: the API this jar was built against
  }

  @Override
  public List<PluginCommand> commands() {
    return List.of(new WebhookCommand());
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    WebhookSettings settings = WebhookSettings.from(config);
    DeliveryLoop loop = context.lasting(DeliveryLoop.class, lifetime -> {
      try {
        return new DeliveryLoop(lifetime, WebhookStores.open(settings, lifetime.dataDirectory(), true), settings);
      } catch (StoreException e) {
        throw new InvalidConfigException(e.getMessage());
      }
    });
    if (config.route() == null) {
      loop.defaults(settings);
    } else if (config.route().indexOf('*') < 0) {
      loop.route(config.route(), settings);
    }
    // Every route configuration adds the same endpoints (over the one lasting queue); the gateway
    // serves the first one's.
    addAdminEndpoints(context, new QueueOperations(loop.store()), loop);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("route", config.route());
    fields.put("mode", settings.mode());
    fields.put("max_attempts", settings.maxAttempts());
    fields.put("signature", settings.signature() == null ? null : settings.signature().scheme());
    context.event(Level.INFO, "webhook route configured", fields);
    return new WebhookFilter(settings, loop, context.clock());
  }

  private static void addAdminEndpoints(PluginContext context, QueueOperations ops, DeliveryLoop loop) {
    context.adminEndpoint("webhooks", get(request -> {
      String id = request.queryParameter("id");
      if (id != null && !id.isBlank() && !id.contains(",")) {
        return ops.show(id.trim()).map(WebhookRetryPlugin::json).orElseGet(() -> notFound(id));
      }
      return json(ops.list(parameters(request), context.clock().instant()));
    }));
    context.adminEndpoint("stats", get(request -> json(ops.stats(context.clock().instant()))));
    context.adminEndpoint("replay", post(request -> {
      String out = ops.replay(parameters(request), context.clock().instant());
      loop.queueChanged();
      return json(out);
    }));
    context.adminEndpoint("purge", post(request -> json(ops.purge(parameters(request), context.clock().instant()))));
    context.adminEndpoint("resume", post(request -> {
      String out = ops.resume(request.queryParameter("route"));
      loop.queueChanged();
      return json(out);
    }));
  }

  @FunctionalInterface
  private interface Operation {
    Response run(Request request) throws Exception;
  }

  private static AdminEndpoint get(Operation op) {
    return method("GET", op);
  }

  private static AdminEndpoint post(Operation op) {
    return method("POST", op);
  }

  private static AdminEndpoint method(String method, Operation op) {
    return request -> {
      if (!request.method().equals(method) && !(method.equals("GET") && request.method().equals("HEAD"))) {
        throw new ProblemException(Problem.of(405, "method-not-allowed", "Method Not Allowed",
            "Use " + method + " here.", "See docs/plugins/webhook-retry.md, Operations."),
            Headers.of("Allow", method), null);
      }
      try {
        return op.run(request);
      } catch (QueueOperations.UsageException e) {
        throw new ProblemException(Problem.of(400, "bad-request", "Bad Request", e.getMessage(), null));
      } catch (StoreException e) {
        throw new ProblemException(Problem.of(503, "webhook-store-unavailable", "Service Unavailable", e.getMessage(),
            null), Headers.of("Retry-After", "5"), e);
      } catch (java.io.IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new java.io.IOException(e);
      }
    };
  }

  private static Map<String, String> parameters(Request request) {
    Map<String, String> p = new LinkedHashMap<>();
    for (String name : PARAMETERS) {
      String v = request.queryParameter(name);
      if (v != null) {
        p.put(name, v);
      }
    }
    return p;
  }

  private static Response json(String body) {
    return Response.of(200, Headers.of("Content-Type", "application/json", "Cache-Control", "no-store"), Body.of(body));
  }

  private static Response notFound(String id) {
    return Problem.of(404, "webhook-not-found", "Not Found", "No webhook has the id '" + id + "'.",
        "List them: GET /plugins/webhook-retry/webhooks?state=dead").toResponse();
  }
}
