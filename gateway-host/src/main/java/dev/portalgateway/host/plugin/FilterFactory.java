package dev.portalgateway.host.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.host.config.ConfigException;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Creates the filters of the plugins a configuration enables, in chain order: by phase, then by
 * name. The YAML order never matters, so a cache cannot be configured in front of authentication.
 */
public final class FilterFactory {
  private final PluginCatalog catalog;
  private final CollectorRegistry registry;
  private final Map<String, PrometheusPluginMetrics.Registered> collectors = PrometheusPluginMetrics.newStore();
  private final Clock clock;

  public FilterFactory(PluginCatalog catalog, CollectorRegistry registry, Clock clock) {
    this.catalog = catalog;
    this.registry = registry;
    this.clock = clock;
  }

  /** @return the catalog the filters come from */
  public PluginCatalog catalog() {
    return catalog;
  }

  /**
   * @param pluginConfigs the {@code plugins:} section
   * @param dataDir the gateway's data directory
   * @return the filters, in chain order; the caller closes them
   * @throws ConfigException naming the plugin and key path when a plugin is missing or refuses its
   *     configuration; filters created before the failure are closed
   */
  public List<ActiveFilter> create(Map<String, JsonNode> pluginConfigs, Path dataDir, Connector routes)
      throws ConfigException {
    List<ActiveFilter> created = new ArrayList<>();
    try {
      for (Map.Entry<String, JsonNode> e : pluginConfigs.entrySet()) {
        JsonNode tree = e.getValue();
        if (tree != null && tree.has("enabled") && !tree.get("enabled").asText().trim().equalsIgnoreCase("true")) {
          continue;
        }
        created.add(create(catalog.require(e.getKey()), tree, dataDir, routes));
      }
    } catch (ConfigException | RuntimeException e) {
      created.forEach(ActiveFilter::close);
      throw e;
    }
    created.sort(Comparator.comparing(ActiveFilter::phase).thenComparing(ActiveFilter::name));
    return List.copyOf(created);
  }

  private ActiveFilter create(LoadedPlugin plugin, JsonNode tree, Path dataDir, Connector routes) throws ConfigException {
    HostPluginContext context = new HostPluginContext(plugin,
        new PrometheusPluginMetrics(plugin.name(), registry, collectors), clock, dataDir, routes);
    ClassLoader previous = ContextClassLoader.enter(plugin.loader());
    try {
      Filter filter = plugin.plugin().create(new HostPluginConfig(plugin.name(), tree), context);
      if (filter == null) {
        throw new ConfigException("plugin '" + plugin.name() + "' (" + plugin.jar().getFileName() + ") created no filter");
      }
      return new ActiveFilter(plugin.name(), plugin.phase(), filter, plugin.loader(), context,
          context.sealAdminEndpoints());
    } catch (InvalidConfigException e) {
      context.close();
      String msg = e.getMessage() == null ? "invalid configuration" : e.getMessage();
      throw new ConfigException(msg.contains("plugins." + plugin.name()) ? msg : "plugins." + plugin.name() + ": " + msg, e);
    } catch (RuntimeException | LinkageError e) {
      context.close();
      throw new ConfigException("plugin '" + plugin.name() + "' (" + plugin.jar().getFileName()
          + ") failed to start: " + e, e);
    } finally {
      ContextClassLoader.restore(previous);
    }
  }
}
