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

  /**
   * Adds an endpoint to the gateway's admin listener, at {@code /plugins/<plugin name>/<name>}:
   * {@code context.adminEndpoint("purge", endpoint)} in plugin {@code cache-mcp} serves
   * {@code /plugins/cache-mcp/purge}. Call it from {@link GatewayPlugin#create}: the endpoint is
   * served while the filter of this configuration generation is current. After a reload the
   * endpoints the new generation's {@code create} added are served instead, and once the plugin
   * is disabled its paths answer {@code 404}. A call in flight keeps its generation open, as a
   * proxied request does, so the filter is not closed under it.
   *
   * <p>The admin listener has no authentication of its own: it is protected by where it listens
   * ({@code server.admin_listen}, loopback by default), and anyone who can reach it can call the
   * endpoint. So an endpoint must never expose a secret (a key, a token, a cached response body
   * with personal data), and should change state only for {@code POST}: answer other methods
   * {@code 405} yourself, since the gateway calls the endpoint for every method. (It does refuse,
   * with {@code 403}, calls that a web page made the operator's browser send.)
   *
   * <pre>{@code
   * context.adminEndpoint("purge", request -> {
   *   if (!request.method().equals("POST")) {
   *     return Response.text(405, "text/plain", "use POST\n").withHeader("Allow", "POST");
   *   }
   *   String lease = request.queryParameter("lease");
   *   int purged = lease == null ? cache.purgeAll() : cache.purge(lease);
   *   return Response.text(200, "application/json", "{\"purged\":" + purged + "}");
   * });
   * }</pre>
   *
   * <p>The default implementation throws {@link UnsupportedOperationException}, so that a test's
   * own {@code PluginContext} need not implement it; so does the context of a
   * {@link PluginCommand}, since no server runs then.
   *
   * @param name the endpoint's name: lower-case letters, digits and dashes, starting with a letter
   *     or digit
   * @param endpoint what answers the calls; see {@link AdminEndpoint} for what its request holds
   * @throws IllegalArgumentException when the name is not valid, or this plugin already added an
   *     endpoint of that name in this generation
   * @throws IllegalStateException when called after {@code create} returned
   * @throws UnsupportedOperationException when this context serves no admin endpoints
   */
  default void adminEndpoint(String name, AdminEndpoint endpoint) {
    throw new UnsupportedOperationException("this plugin context serves no admin endpoints");
  }
  /**
   * Adds an endpoint to the gateway's public listener, outside the routes' mount point: an OAuth
   * document at {@code /.well-known/oauth-protected-resource}, a login callback. It serves
   * {@code path} and every path below it; see {@link PublicEndpoint} for what its request holds.
   * Like admin endpoints, public endpoints are added in {@link GatewayPlugin#create} and served
   * while that generation is current.
   *
   * <p>Two endpoints where one's path is the other's or lies below it (from any plugins) are a
   * configuration error naming both, and so is a path under the routes' mount point.
   *
   * <pre>{@code
   * context.publicEndpoint("/.well-known/oauth-protected-resource", request ->
   *     Response.text(200, "application/json", metadataFor(request.upstreamPath())));
   * }</pre>
   *
   * @param path an absolute path such as {@code /.well-known/oauth-protected-resource}: segments
   *     of letters, digits and {@code .-_~}, no trailing slash, no dot segments
   * @param endpoint what answers the calls
   * @throws IllegalArgumentException when the path is not valid, or this plugin already added it
   * @throws IllegalStateException when called after {@code create} returned
   * @throws UnsupportedOperationException when this context serves no endpoints (the default)
   */
  default void publicEndpoint(String path, PublicEndpoint endpoint) {
    throw new UnsupportedOperationException("this plugin context serves no public endpoints");
  }

  /**
   * The plugin's lasting state of {@code type}: created with {@code factory} on the first call, in
   * whichever generation makes it, and the same object for every later call, across reloads, until
   * the gateway stops; then it is closed if it is {@link AutoCloseable}, after the last filter.
   * Per-generation things (settings, a filter) belong to {@code create}; what must outlive a
   * reload (sessions, caches, a durable queue and the one loop that delivers it) belongs here.
   * A state object learns new settings from the filter code that uses it, not from here: the
   * factory runs once.
   *
   * <pre>{@code
   * Sessions sessions = context.lasting(Sessions.class, lifetime -> new Sessions(lifetime.clock()));
   * }</pre>
   *
   * @param type the state's class: one state per class per plugin
   * @param factory creates it; it gets the plugin's lifetime context, whose scheduler runs until
   *     the gateway stops
   * @param <T> the type of the state
   * @return the state
   * @throws InvalidConfigException when the factory fails, with its message
   * @throws UnsupportedOperationException when this context keeps no lasting state (the default)
   */
  default <T> T lasting(Class<T> type, LastingFactory<T> factory) throws InvalidConfigException {
    throw new UnsupportedOperationException("this plugin context keeps no lasting state");
  }

  /**
   * Where routes are mounted on the public listener, {@code server.route_prefix}: {@code /peer/}
   * unless configured otherwise, always starting and ending with {@code /}. A request for route
   * {@code docs} arrives at {@code routePrefix() + "docs/..."}.
   *
   * @return the mount point of routes
   * @throws UnsupportedOperationException when this context has no gateway behind it (the default)
   */
  default String routePrefix() {
    throw new UnsupportedOperationException("this plugin context has no route prefix");
  }
}
