package dev.portalgateway.host.plugin;

import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Phase;
import dev.portalgateway.host.ops.JsonLog;
import java.util.Map;

/**
 * One enabled plugin's filter in one configuration generation.
 *
 * @param name the plugin name
 * @param phase where it runs
 * @param filter the filter
 * @param loader the plugin's class loader, the context class loader around calls into it
 * @param context what the plugin was lent; closed with the filter
 * @param adminEndpoints the endpoints the plugin added to the admin listener in {@code create}, by name
 */
public record ActiveFilter(String name, Phase phase, Filter filter, ClassLoader loader, AutoCloseable context,
    Map<String, AdminEndpoint> adminEndpoints) implements AutoCloseable {

  /** Closes the filter (under its own class loader) and then its context. */
  @Override
  public void close() {
    ClassLoader previous = ContextClassLoader.enter(loader);
    try {
      filter.close();
    } catch (Exception | LinkageError e) {
      JsonLog.warn("plugins", "plugin filter failed to close", "plugin", name, "error", e);
    } finally {
      ContextClassLoader.restore(previous);
    }
    try {
      context.close();
    } catch (Exception e) {
      JsonLog.warn("plugins", "plugin context failed to close", "plugin", name, "error", e);
    }
  }
}
