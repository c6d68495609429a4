package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.api.Request;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The plugin's audit trail and counters: one JSON line per authentication failure and per key
 * change, with the key id, lease, client address, outcome and reason. Never the key, never its hash.
 */
final class Audit {
  private final PluginContext context;
  private final PluginMetrics.Counter outcomes;

  Audit(PluginContext context) {
    this.context = context;
    this.outcomes = context.metrics().counter("requests_total",
        "Requests by what authentication decided: allowed, public, missing, malformed, unknown_key, wrong_secret, "
            + "revoked, expired, rotated, query_not_allowed, lease_not_allowed, client_not_allowed, scope_missing, "
            + "client_address_denied, throttled, busy.", "outcome");
  }

  /** Counts one request's outcome. */
  void outcome(String outcome) {
    outcomes.inc(outcome);
  }

  /** Writes one line for a refused request. */
  void failure(Request request, String keyId, String reason, int status) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", "auth_failure");
    fields.put("key_id", keyId);
    fields.put("lease", request.route());
    fields.put("client_ip", request.clientAddress().getHostAddress());
    fields.put("outcome", reason.equals("throttle_started") ? "throttled" : "denied");
    fields.put("reason", reason);
    fields.put("status", status);
    fields.put("request_id", request.requestId());
    context.event(Level.WARNING, "authentication failed", fields);
  }

  /** Writes one line for a key that was added, revoked, rotated, changed or removed. */
  static void keyChange(PluginContext context, String keyId, String change, String name, String via) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", "key_" + change);
    fields.put("key_id", keyId);
    fields.put("name", name);
    fields.put("outcome", change);
    fields.put("via", via);
    context.event(Level.INFO, "API key " + change, fields);
  }
}
