package dev.portalgateway.host.runtime;

import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.plugin.FilterFactory;
import dev.portalgateway.host.proxy.ClientAddresses;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One configuration generation: its routes, its filters and its chain. A reload builds a new one
 * and swaps it in; the old one is closed when the last request that started on it finishes, so a
 * reload never cuts a request (or a long stream) short.
 */
public final class GatewayRuntime {
  private static final int CLOSED = -1;

  private final LoadedConfig config;
  private final RouteTable routes;
  private final FilterFactory.Plugins plugins;
  private final RouteChains chains;
  private final ClientAddresses clientAddresses;
  private final AtomicInteger users = new AtomicInteger();
  private final AtomicBoolean retired = new AtomicBoolean();

  GatewayRuntime(LoadedConfig config, RouteTable routes, FilterFactory.Plugins plugins) {
    this.config = config;
    this.routes = routes;
    this.plugins = plugins;
    this.chains = new RouteChains(plugins.bindings(), routes);
    this.clientAddresses = new ClientAddresses(config.config().server().trustedProxies());
  }

  /** @return who the client is, given this generation's trusted proxies */
  public ClientAddresses clientAddresses() {
    return clientAddresses;
  }

  public LoadedConfig config() {
    return config;
  }

  public RouteTable routes() {
    return routes;
  }

  /** @return the chain requests to {@code route} run through */
  public FilterChain chainFor(String route) {
    return chains.forRoute(route);
  }

  /** @return the names of the enabled plugins, in chain order */
  public List<String> pluginNames() {
    return plugins.bindings().stream().map(b -> b.plugin()).toList();
  }

  /**
   * @return the enabled plugins' filters, in chain order (a plugin configured per route may have
   *     several), with the endpoints each added; use them only while this generation is acquired
   */
  public List<ActiveFilter> filters() {
    return plugins.filters();
  }

  /** @return whether the caller may use this generation; pair with {@link #release()} */
  boolean tryAcquire() {
    while (true) {
      int n = users.get();
      if (n == CLOSED) {
        return false;
      }
      if (users.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Ends one use; closes the generation if it was retired and this was the last use. */
  public void release() {
    if (users.decrementAndGet() == 0 && retired.get()) {
      closeIfUnused();
    }
  }

  /** Marks the generation replaced; it closes once unused. */
  public void retire() {
    retired.set(true);
    routes.keepNoIdleConnections(); // no new request comes here: pooled connections are waste
    closeIfUnused();
  }

  private void closeIfUnused() {
    if (users.compareAndSet(0, CLOSED)) {
      plugins.close();
      routes.close();
      JsonLog.info("config", "configuration generation closed", "fingerprint", config.fingerprint().substring(0, 12));
    }
  }
}
