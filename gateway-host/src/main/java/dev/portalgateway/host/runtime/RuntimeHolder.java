package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Connector;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.plugin.FilterFactory;
import java.util.concurrent.atomic.AtomicReference;

/** Holds the current generation and swaps in new ones atomically. */
public final class RuntimeHolder implements AutoCloseable {
  private final FilterFactory filters;
  private final Connector fallback;
  private final CurrentRoutes routes = new CurrentRoutes();
  private final AtomicReference<GatewayRuntime> current = new AtomicReference<>();
  private volatile boolean closed;

  /**
   * @param filters creates each generation's filters
   * @param initial the first configuration
   * @throws ConfigException when a plugin refuses the configuration
   */
  public RuntimeHolder(FilterFactory filters, LoadedConfig initial) throws ConfigException {
    this(filters, initial, null);
  }

  /**
   * @param fallback serves names that are not configured upstreams (the Portal connector), or {@code null}
   * @see #RuntimeHolder(FilterFactory, LoadedConfig)
   */
  public RuntimeHolder(FilterFactory filters, LoadedConfig initial, Connector fallback) throws ConfigException {
    this.filters = filters;
    this.fallback = fallback;
    current.set(build(initial));
    routes.bind(this);
  }

  /** Builds a generation without installing it, to check a configuration completely. */
  public GatewayRuntime build(LoadedConfig config) throws ConfigException {
    FilterFactory.Plugins plugins = filters.create(config.config().plugins(), config.paths().dataDir(), routes,
        config.config().server().routePrefix());
    return new GatewayRuntime(config, RouteTable.of(config.config(), fallback), plugins);
  }

  /** @return the current generation, acquired; the caller must {@link GatewayRuntime#release()} it */
  public GatewayRuntime acquire() {
    while (true) {
      GatewayRuntime r = current.get();
      if (r.tryAcquire()) {
        return r;
      }
      if (closed) {
        throw new IllegalStateException("the gateway has stopped");
      }
      // Lost a race with a swap: the generation just closed, the next read sees its successor.
    }
  }

  /** @return the current generation, for reading its configuration; not acquired */
  public GatewayRuntime peek() {
    return current.get();
  }

  /**
   * Builds and installs a generation from {@code config}; the previous one retires.
   *
   * @throws ConfigException when a plugin refuses the configuration; the current one stays
   */
  public void replace(LoadedConfig config) throws ConfigException {
    GatewayRuntime next = build(config);
    GatewayRuntime previous = current.getAndSet(next);
    previous.retire();
  }

  /**
   * Retires the current generation, then closes the plugins' lasting state: generations first, so
   * a filter never runs on a closed state (a request still running past the drain's grace period
   * may find its state closed under it; the gateway is stopping then).
   */
  @Override
  public void close() {
    closed = true;
    current.get().retire();
    filters.close();
  }
}
