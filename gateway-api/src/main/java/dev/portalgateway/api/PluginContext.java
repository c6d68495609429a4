package dev.portalgateway.api;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the gateway lends a plugin. Everything here is scoped to the plugin: its logger writes the
 * plugin's name on every line, its metrics carry its prefix, and its scheduler runs tasks with the
 * plugin's class loader as the thread context class loader.
 */
public interface PluginContext {

  /** @return the plugin's name, as enabled in the YAML configuration */
  String pluginName();

  /**
   * A logger that writes one JSON object per line on the gateway's log. Never log a secret: not a
   * key, a token, a cookie or an {@code Authorization} header.
   *
   * @return the plugin's logger
   */
  System.Logger logger();

  /**
   * Writes one structured JSON line, such as an audit record, with the plugin's name, a timestamp
   * and these fields. Never pass a secret as a field value.
   *
   * <pre>{@code
   * context.event(Level.WARNING, "authentication failed",
   *     Map.of("event", "auth_failure", "key_id", keyId, "lease", request.route(), "reason", "revoked"));
   * }</pre>
   *
   * @param level the severity
   * @param message a human message
   * @param fields more fields, in iteration order; values are strings, numbers, booleans or null
   */
  void event(System.Logger.Level level, String message, java.util.Map<String, ?> fields);

  /**
   * Sends a request straight to the connector of its {@link Request#route() route} in the
   * gateway's current configuration, skipping the filter chain. This is for work that outlives
   * the request that started it, such as a durable webhook retry an hour later: a {@link Chain}
   * is only valid while {@link Filter#handle} runs. The response body must be read or discarded.
   *
   * @return a connector to the gateway's routes
   */
  Connector routes();

  /** @return the plugin's metrics */
  PluginMetrics metrics();

  /** @return the clock to read time from; tests of the gateway may replace it */
  Clock clock();

  /**
   * A scheduler for background work (reloading a file, flushing a queue). It is shut down when
   * the filter of this configuration generation is closed.
   *
   * @return the plugin's scheduler
   */
  ScheduledExecutorService scheduler();

  /**
   * A directory that belongs to this plugin under the gateway's {@code server.data_dir}, created
   * on first use. Keep keys, queues and state here.
   *
   * @return the plugin's data directory
   */
  Path dataDirectory();
}
