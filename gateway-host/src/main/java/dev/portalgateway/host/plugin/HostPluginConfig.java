package dev.portalgateway.host.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.host.config.ConfigBinder;
import dev.portalgateway.host.config.ConfigException;
import java.util.Map;

/** A plugin's YAML subtree, bound with the same rules as the gateway's own settings. */
final class HostPluginConfig implements PluginConfig {
  private final String path;
  private final String route;
  private final JsonNode tree;

  /**
   * @param pluginName the plugin's name
   * @param tree its subtree; {@code null} means empty. The host's own keys ({@code enabled},
   *     {@code routes}) are left out of what the plugin sees.
   */
  HostPluginConfig(String pluginName, JsonNode tree) {
    this(pluginName, null, tree);
  }

  /**
   * @param route the route key this configuration is for, or {@code null} for the default one
   * @param tree the effective subtree for that route
   */
  HostPluginConfig(String pluginName, String route, JsonNode tree) {
    this.path = "plugins." + pluginName + (route == null ? "" : ".routes." + route);
    this.route = route;
    ObjectNode copy = tree instanceof ObjectNode o ? o.deepCopy() : JsonNodeFactory.instance.objectNode();
    copy.remove("enabled");
    copy.remove("routes");
    this.tree = copy;
  }

  @Override
  public String route() {
    return route;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public <T> T bind(Class<T> type) throws InvalidConfigException {
    try {
      return ConfigBinder.bind(tree, type, path);
    } catch (ConfigException e) {
      throw new InvalidConfigException(e.getMessage(), e);
    }
  }

  @Override
  public Map<String, Object> asMap() {
    return ConfigBinder.toMap(tree);
  }
}
