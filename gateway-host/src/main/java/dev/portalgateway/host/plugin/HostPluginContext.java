package dev.portalgateway.host.plugin;

import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.LastingFactory;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.api.PublicEndpoint;
import dev.portalgateway.host.ops.JsonLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * What one plugin gets for one configuration generation (one per filter it creates), or, for its
 * lasting state, for its whole lifetime: then it adds no endpoints and its scheduler runs until
 * the gateway stops.
 */
final class HostPluginContext implements PluginContext, AutoCloseable {
  private static final Pattern ADMIN_ENDPOINT_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
  /** Segments of unreserved characters; no trailing slash. Dot segments are refused separately. */
  private static final Pattern PUBLIC_ENDPOINT_PATH = Pattern.compile("(/[A-Za-z0-9._~-]+)+");

  private final LoadedPlugin plugin;
  private final PluginMetrics metrics;
  private final Clock clock;
  private final Path dataDirectory;
  private final System.Logger logger;
  private final Connector routes;
  private final LastingStates lasting;
  private final String routePrefix;
  private final boolean lifetime;
  private volatile ScheduledExecutorService scheduler;
  /** By name; sorted, so that a 404 lists them in a stable order. */
  private final Map<String, AdminEndpoint> adminEndpoints = new TreeMap<>();
  private final Map<String, PublicEndpoint> publicEndpoints = new TreeMap<>();
  private boolean adminEndpointsSealed;

  /**
   * @param lasting where the plugin's lasting state is kept
   * @param routePrefix {@code server.route_prefix}
   * @param lifetime whether this is the plugin's lifetime context (for lasting state) rather than a generation's
   */
  HostPluginContext(LoadedPlugin plugin, PluginMetrics metrics, Clock clock, Path gatewayDataDir, Connector routes,
      LastingStates lasting, String routePrefix, boolean lifetime) {
    this.routes = routes;
    this.lasting = lasting;
    this.routePrefix = routePrefix;
    this.lifetime = lifetime;
    this.plugin = plugin;
    this.metrics = metrics;
    this.clock = clock;
    this.dataDirectory = gatewayDataDir.resolve("plugins").resolve(plugin.name());
    this.logger = JsonLog.systemLogger("plugin." + plugin.name());
  }

  @Override
  public String pluginName() {
    return plugin.name();
  }

  @Override
  public System.Logger logger() {
    return logger;
  }

  @Override
  public void event(System.Logger.Level level, String message, java.util.Map<String, ?> fields) {
    JsonLog.write(level, "plugin." + plugin.name(), message, fields);
  }

  @Override
  public Connector routes() {
    return routes;
  }

  @Override
  public PluginMetrics metrics() {
    return metrics;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public synchronized ScheduledExecutorService scheduler() {
    if (scheduler == null) {
      // Created on first use: most plugins never schedule anything.
      AtomicInteger n = new AtomicInteger();
      ThreadFactory threads = r -> {
        Thread t = new Thread(r, "plugin-" + plugin.name() + "-" + n.incrementAndGet());
        t.setDaemon(true);
        t.setContextClassLoader(plugin.loader());
        return t;
      };
      scheduler = Executors.newSingleThreadScheduledExecutor(threads);
    }
    return scheduler;
  }

  /** @return the plugin's data directory, not created */
  Path dataDirectoryPath() {
    return dataDirectory;
  }

  @Override
  public Path dataDirectory() {
    try {
      return Files.createDirectories(dataDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the data directory " + dataDirectory
          + " of plugin " + plugin.name() + "; check server.data_dir and its permissions", e);
    }
  }

  @Override
  public <T> T lasting(Class<T> type, LastingFactory<T> factory) throws InvalidConfigException {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(factory, "factory");
    return lasting.get(plugin, type, factory);
  }

  @Override
  public String routePrefix() {
    return routePrefix;
  }

  @Override
  public synchronized void publicEndpoint(String path, PublicEndpoint endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    refuseInLifetimeContext("public endpoint " + path);
    if (path == null || !PUBLIC_ENDPOINT_PATH.matcher(path).matches() || path.contains("/./") || path.contains("/../")
        || path.endsWith("/.") || path.endsWith("/..")) {
      throw new IllegalArgumentException("plugin '" + plugin.name() + "' adds a public endpoint at '" + path
          + "'; use an absolute path of segments of letters, digits and . _ ~ -, without a trailing slash, "
          + "such as /.well-known/oauth-protected-resource");
    }
    if (underOrAt(path, routePrefix.substring(0, routePrefix.length() - 1)) || underOrAt(routePrefix.substring(0,
        routePrefix.length() - 1), path)) {
      throw new IllegalArgumentException("plugin '" + plugin.name() + "' adds a public endpoint at '" + path
          + "', which overlaps where routes are mounted (server.route_prefix " + routePrefix + ")");
    }
    if (adminEndpointsSealed) {
      throw new IllegalStateException("plugin '" + plugin.name() + "' adds the public endpoint '" + path
          + "' after create returned; add public endpoints in create");
    }
    if (publicEndpoints.putIfAbsent(path, endpoint) != null) {
      throw new IllegalArgumentException("plugin '" + plugin.name() + "' adds the public endpoint '" + path
          + "' twice; each path can be added once per configuration generation");
    }
  }

  /** @return whether {@code path} is {@code base} or lies below it */
  static boolean underOrAt(String path, String base) {
    return path.equals(base) || (path.startsWith(base) && path.charAt(base.length()) == '/');
  }

  private void refuseInLifetimeContext(String what) {
    if (lifetime) {
      throw new IllegalStateException("plugin '" + plugin.name() + "' adds the " + what
          + " from its lasting state's context; add endpoints in create, with the generation's context");
    }
  }

  @Override
  public synchronized void adminEndpoint(String name, AdminEndpoint endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    refuseInLifetimeContext("admin endpoint " + name);
    if (name == null || !ADMIN_ENDPOINT_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("plugin '" + plugin.name() + "' adds an admin endpoint named '" + name
          + "'; endpoint names use lower-case letters, digits and dashes");
    }
    if (adminEndpointsSealed) {
      // The generation's endpoints are fixed once it is built, so every call sees one set.
      throw new IllegalStateException("plugin '" + plugin.name() + "' adds the admin endpoint '" + name
          + "' after create returned; add admin endpoints in create");
    }
    if (adminEndpoints.putIfAbsent(name, endpoint) != null) {
      throw new IllegalArgumentException("plugin '" + plugin.name() + "' adds the admin endpoint '" + name
          + "' twice; each name can be added once per configuration generation");
    }
  }

  /**
   * Ends the plugin's chance to add admin endpoints: called when {@code create} has returned.
   *
   * @return the endpoints it added, by name, in name order
   */
  synchronized Map<String, AdminEndpoint> sealAdminEndpoints() {
    adminEndpointsSealed = true;
    return Collections.unmodifiableMap(new TreeMap<>(adminEndpoints));
  }

  /** @return the public endpoints the plugin added in {@code create}, by path; call after {@link #sealAdminEndpoints} */
  synchronized Map<String, PublicEndpoint> publicEndpoints() {
    return Collections.unmodifiableMap(new TreeMap<>(publicEndpoints));
  }

  @Override
  public void close() {
    sealAdminEndpoints();
    ScheduledExecutorService s = scheduler;
    if (s != null) {
      s.shutdownNow();
    }
  }
}
