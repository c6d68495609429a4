package dev.portalgateway.host.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PublicEndpoint;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ServerConfig;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Creates the filters of the plugins a configuration enables, in chain order: by phase, then by
 * name. The YAML order never matters, so a cache cannot be configured in front of authentication.
 *
 * <p>A plugin's {@code routes:} key configures it per route: each route key's settings are laid
 * over the plugin's own (objects merged key by key, anything else replaced), and the plugin's
 * {@code create} runs once per distinct result. The factory lives as long as the gateway and keeps
 * the plugins' lasting state, which it closes last.
 */
public final class FilterFactory implements AutoCloseable {
  private final PluginCatalog catalog;
  private final CollectorRegistry registry;
  private final Map<String, PrometheusPluginMetrics.Registered> collectors = PrometheusPluginMetrics.newStore();
  private final Clock clock;
  private final LastingStates lasting;
  private volatile String routePrefix = ServerConfig.DEFAULT_ROUTE_PREFIX;
  private volatile Path lifetimeDataDir;
  private volatile Connector lifetimeRoutes;

  public FilterFactory(PluginCatalog catalog, CollectorRegistry registry, Clock clock) {
    this.catalog = catalog;
    this.registry = registry;
    this.clock = clock;
    // A lifetime context sees the data directory and routes of the generation that created the state.
    this.lasting = new LastingStates((plugin, states) -> new HostPluginContext(plugin, metricsOf(plugin), clock,
        lifetimeDataDir, lifetimeRoutes, states, routePrefix, true));
  }

  /** @return the catalog the filters come from */
  public PluginCatalog catalog() {
    return catalog;
  }

  /**
   * The enabled plugins of one generation.
   *
   * @param bindings which filter of each plugin serves which route, in chain order
   * @param filters every filter created, in chain order (each plugin's default one first)
   */
  public record Plugins(List<PluginBinding> bindings, List<ActiveFilter> filters) implements AutoCloseable {
    /** Closes every filter, last in chain order first. */
    @Override
    public void close() {
      for (int i = filters.size() - 1; i >= 0; i--) {
        filters.get(i).close();
      }
    }
  }

  /**
   * @param pluginConfigs the {@code plugins:} section
   * @param dataDir the gateway's data directory
   * @param routes the current generation's routes, for plugins that send later
   * @param routePrefix {@code server.route_prefix}
   * @return the plugins' filters; the caller closes them
   * @throws ConfigException naming the plugin and key path when a plugin is missing or refuses its
   *     configuration, or two plugins' public endpoints overlap; filters created before the
   *     failure are closed
   */
  public Plugins create(Map<String, JsonNode> pluginConfigs, Path dataDir, Connector routes, String routePrefix)
      throws ConfigException {
    this.routePrefix = routePrefix;
    this.lifetimeDataDir = dataDir;
    this.lifetimeRoutes = routes;
    List<ActiveFilter> created = new ArrayList<>();
    List<PluginBinding> bindings = new ArrayList<>();
    try {
      for (Map.Entry<String, JsonNode> e : pluginConfigs.entrySet()) {
        PluginBinding binding = bind(e.getKey(), e.getValue(), dataDir, routes, routePrefix, created);
        if (binding != null) {
          bindings.add(binding);
        }
      }
      checkPublicEndpoints(created);
    } catch (ConfigException | RuntimeException e) {
      created.forEach(ActiveFilter::close);
      throw e;
    }
    bindings.sort(Comparator.comparing(PluginBinding::phase).thenComparing(PluginBinding::plugin));
    // Stable: within a plugin, the default filter first, then the route ones in configuration order.
    created.sort(Comparator.comparing(ActiveFilter::phase).thenComparing(ActiveFilter::name));
    return new Plugins(List.copyOf(bindings), List.copyOf(created));
  }

  /** Creates one plugin's filters; {@code null} when it is off everywhere. */
  private PluginBinding bind(String name, JsonNode tree, Path dataDir, Connector routes, String routePrefix,
      List<ActiveFilter> created) throws ConfigException {
    boolean enabledByDefault = isEnabled(tree, true);
    JsonNode routeKeys = tree == null ? null : tree.get("routes");
    boolean hasRoutes = routeKeys != null && routeKeys.isObject() && !routeKeys.isEmpty();
    if (!enabledByDefault && !hasRoutes) {
      return null;
    }
    LoadedPlugin plugin = catalog.require(name);
    ObjectNode base = withoutHostKeys(tree);
    // One filter per distinct effective configuration: routes that end up alike share one.
    Map<JsonNode, ActiveFilter> byConfig = new HashMap<>();
    ActiveFilter fallback = null;
    if (enabledByDefault) {
      fallback = create(plugin, null, base, dataDir, routes, routePrefix);
      created.add(fallback);
      byConfig.put(base, fallback);
    }
    List<PluginBinding.RouteOverride> overrides = new ArrayList<>();
    if (hasRoutes) {
      for (Iterator<Map.Entry<String, JsonNode>> it = routeKeys.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> r = it.next();
        // Listing a route turns the plugin on there, unless the route says enabled: false.
        if (!isEnabled(r.getValue(), true)) {
          overrides.add(new PluginBinding.RouteOverride(r.getKey(), null));
          continue;
        }
        ObjectNode effective = merge(base, withoutHostKeys(r.getValue()));
        ActiveFilter filter = byConfig.get(effective);
        if (filter == null) {
          filter = create(plugin, r.getKey(), effective, dataDir, routes, routePrefix);
          created.add(filter);
          byConfig.put(effective, filter);
        }
        overrides.add(new PluginBinding.RouteOverride(r.getKey(), filter));
      }
    }
    return new PluginBinding(plugin.name(), plugin.phase(), fallback, overrides);
  }

  private static boolean isEnabled(JsonNode tree, boolean otherwise) {
    if (tree == null || !tree.has("enabled")) {
      return otherwise;
    }
    return tree.get("enabled").asText().trim().equalsIgnoreCase("true");
  }

  private static ObjectNode withoutHostKeys(JsonNode tree) {
    ObjectNode copy = tree instanceof ObjectNode o ? o.deepCopy() : JsonNodeFactory.instance.objectNode();
    copy.remove("enabled");
    copy.remove("routes");
    return copy;
  }

  /** {@code over} laid over {@code base}: objects merged key by key, anything else replaced. */
  static ObjectNode merge(ObjectNode base, ObjectNode over) {
    ObjectNode result = base.deepCopy();
    for (Iterator<Map.Entry<String, JsonNode>> it = over.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode existing = result.get(e.getKey());
      if (existing instanceof ObjectNode eo && e.getValue() instanceof ObjectNode vo) {
        result.set(e.getKey(), merge(eo, vo));
      } else {
        result.set(e.getKey(), e.getValue().deepCopy());
      }
    }
    return result;
  }

  /**
   * Refuses public endpoints of different plugins where one's path is the other's or lies below it.
   * Filters of one plugin (for several routes) add the same paths: the first one's serve.
   */
  private static void checkPublicEndpoints(List<ActiveFilter> filters) throws ConfigException {
    Map<String, String> owners = new LinkedHashMap<>();
    for (ActiveFilter f : filters) {
      for (String path : f.publicEndpoints().keySet()) {
        for (Map.Entry<String, String> o : owners.entrySet()) {
          if (o.getValue().equals(f.name())) {
            continue;
          }
          if (HostPluginContext.underOrAt(path, o.getKey()) || HostPluginContext.underOrAt(o.getKey(), path)) {
            throw new ConfigException("plugins." + f.name() + ": its public endpoint " + path + " overlaps the public endpoint "
                + o.getKey() + " of plugin '" + o.getValue() + "'"
                + "; two plugins cannot serve the same paths: enable only one of them, or move one endpoint in its "
                + "plugin's settings");
          }
        }
        owners.putIfAbsent(path, f.name());
      }
    }
  }

  /** @return the public endpoint at the longest path that {@code path} is at or below, with its filter; or {@code null} */
  public static PublicTarget findPublicEndpoint(List<ActiveFilter> filters, String path) {
    PublicTarget best = null;
    for (ActiveFilter f : filters) {
      for (Map.Entry<String, PublicEndpoint> e : f.publicEndpoints().entrySet()) {
        if (HostPluginContext.underOrAt(path, e.getKey()) && (best == null || e.getKey().length() > best.path().length())) {
          best = new PublicTarget(f, e.getKey(), e.getValue());
        }
      }
    }
    return best;
  }

  /**
   * A public endpoint and the filter whose {@code create} added it.
   *
   * @param plugin the filter, for its plugin's name and class loader
   * @param path the endpoint's path
   * @param endpoint the endpoint
   */
  public record PublicTarget(ActiveFilter plugin, String path, PublicEndpoint endpoint) {}

  private PrometheusPluginMetrics metricsOf(LoadedPlugin plugin) {
    return new PrometheusPluginMetrics(plugin.name(), registry, collectors);
  }

  private ActiveFilter create(LoadedPlugin plugin, String route, ObjectNode tree, Path dataDir, Connector routes,
      String routePrefix) throws ConfigException {
    HostPluginContext context = new HostPluginContext(plugin, metricsOf(plugin), clock, dataDir, routes, lasting,
        routePrefix, false);
    String where = "plugins." + plugin.name() + (route == null ? "" : ".routes." + route);
    ClassLoader previous = ContextClassLoader.enter(plugin.loader());
    try {
      Filter filter = plugin.plugin().create(new HostPluginConfig(plugin.name(), route, tree), context);
      if (filter == null) {
        throw new ConfigException("plugin '" + plugin.name() + "' (" + plugin.jar().getFileName() + ") created no filter");
      }
      if (filter instanceof dev.portalgateway.api.Authenticator && plugin.phase() != Phase.AUTHENTICATE) {
        throw new ConfigException("plugin '" + plugin.name() + "' (" + plugin.jar().getFileName() + ") made an "
            + "Authenticator, but its phase is " + plugin.phase() + "; authenticators run in the AUTHENTICATE phase");
      }
      return new ActiveFilter(plugin.name(), plugin.phase(), filter, plugin.loader(), context,
          context.sealAdminEndpoints(), context.publicEndpoints(), route);
    } catch (InvalidConfigException e) {
      context.close();
      String msg = e.getMessage() == null ? "invalid configuration" : e.getMessage();
      throw new ConfigException(msg.contains("plugins." + plugin.name()) ? msg : where + ": " + msg, e);
    } catch (ConfigException e) {
      context.close();
      throw e;
    } catch (RuntimeException | LinkageError e) {
      context.close();
      throw new ConfigException("plugin '" + plugin.name() + "' (" + plugin.jar().getFileName()
          + ") failed to start" + (route == null ? "" : " for routes '" + route + "'") + ": " + e, e);
    } finally {
      ContextClassLoader.restore(previous);
    }
  }

  /** Removes plugin metric series unused for an hour; the gateway's timer calls it every minute. */
  public void forgetIdleMetrics() {
    PrometheusPluginMetrics.forgetIdle(collectors);
  }

  /** Closes the plugins' lasting state: call when the gateway stops, after the last generation. */
  @Override
  public void close() {
    lasting.close();
  }
}
