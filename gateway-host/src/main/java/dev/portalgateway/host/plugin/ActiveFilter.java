package dev.portalgateway.host.plugin;

import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Completion;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PublicEndpoint;
import dev.portalgateway.host.ops.JsonLog;
import java.util.Map;

/**
 * One filter a plugin created in one configuration generation: for its default configuration, or
 * for the routes that share one per-route configuration.
 *
 * @param name the plugin name
 * @param phase where it runs
 * @param filter the filter
 * @param loader the plugin's class loader, the context class loader around calls into it
 * @param context what the plugin was lent; closed with the filter
 * @param adminEndpoints the endpoints the plugin added to the admin listener in {@code create}, by name
 * @param publicEndpoints the endpoints the plugin added to the public listener in {@code create}, by path
 * @param route the route key of the configuration it was made for, or {@code null} for the default one
 */
public record ActiveFilter(String name, Phase phase, Filter filter, ClassLoader loader, AutoCloseable context,
    Map<String, AdminEndpoint> adminEndpoints, Map<String, PublicEndpoint> publicEndpoints, String route)
    implements AutoCloseable {

  /** A filter for the default configuration, with no public endpoints (for tests). */
  public ActiveFilter(String name, Phase phase, Filter filter, ClassLoader loader, AutoCloseable context,
      Map<String, AdminEndpoint> adminEndpoints) {
    this(name, phase, filter, loader, context, adminEndpoints, Map.of(), null);
  }

  /** @return whether the filter is an {@link Authenticator} (and so shares its route with other ones) */
  public boolean isAuthenticator() {
    return filter instanceof Authenticator;
  }

  /**
   * @return whether the filter's class overrides {@link Filter#completed}: the gateway builds
   *     completion reports only for routes that have such a filter
   */
  public boolean observesCompletion() {
    try {
      return filter.getClass().getMethod("completed", Completion.class).getDeclaringClass() != Filter.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /** Identity: each created filter is one of a kind, and chains are looked up by their filters. */
  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

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
