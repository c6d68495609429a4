package dev.portalgateway.host.runtime;

import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.ActiveFilter;
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
  private final List<ActiveFilter> filters;
  private final FilterChain chain;
  private final ClientAddresses clientAddresses;
  private final AtomicInteger users = new AtomicInteger();
  private final AtomicBoolean retired = new AtomicBoolean();

  GatewayRuntime(LoadedConfig config, RouteTable routes, List<ActiveFilter> filters) {
    this.config = config;
    this.routes = routes;
    this.filters = filters;
    this.chain = new FilterChain(filters, routes);
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

  public FilterChain chain() {
    return chain;
  }

  /** @return the names of the enabled plugins, in chain order */
  public List<String> pluginNames() {
    return filters.stream().map(ActiveFilter::name).toList();
  }

  /**
   * @return the enabled plugins' filters, in chain order, with the admin endpoints each added;
   *     use them only while this generation is acquired
   */
  public List<ActiveFilter> filters() {
    return filters;
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
      for (int i = filters.size() - 1; i >= 0; i--) {
        filters.get(i).close();
      }
      routes.close();
      JsonLog.info("config", "configuration generation closed", "fingerprint", config.fingerprint().substring(0, 12));
    }
  }
}
