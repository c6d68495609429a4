package dev.portalgateway.host.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.config.ConfigWatcher;
import dev.portalgateway.host.config.ListenAddress;
import dev.portalgateway.host.config.ServerConfig;
import dev.portalgateway.host.ops.GatewayMetrics;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.FilterFactory;
import dev.portalgateway.host.plugin.PluginCatalog;
import dev.portalgateway.host.portal.PortalConnector;
import dev.portalgateway.host.proxy.ProxyHandler;
import dev.portalgateway.host.runtime.RuntimeHolder;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running gateway: the proxy and admin listeners, the plugins, the current configuration
 * generation and the background timers. {@link #start} builds it; {@link #drainAndStop} ends it.
 */
public final class Gateway implements AutoCloseable {
  private final HttpServer proxyServer;
  private final HttpServer adminServer;
  private final RuntimeHolder runtimes;
  private final ProxyHandler proxyHandler;
  private final ScheduledExecutorService timers;
  private final PortalConnector portal;
  private volatile boolean draining;
  private volatile boolean stopped;

  private Gateway(HttpServer proxyServer, HttpServer adminServer, RuntimeHolder runtimes, ProxyHandler proxyHandler,
      ScheduledExecutorService timers, PortalConnector portal) {
    this.portal = portal;
    this.proxyServer = proxyServer;
    this.adminServer = adminServer;
    this.runtimes = runtimes;
    this.proxyHandler = proxyHandler;
    this.timers = timers;
  }

  /**
   * Loads the plugins, builds the first generation and starts both listeners.
   *
   * @param loaded the validated configuration
   * @param loader re-reads the file on change
   * @param jvmMetrics whether to export JVM metrics (off in tests that start several gateways)
   * @return the running gateway
   * @throws ConfigException when plugins or their configuration are wrong
   * @throws IOException when a listener cannot bind
   */
  public static Gateway start(LoadedConfig loaded, ConfigLoader loader, boolean jvmMetrics)
      throws ConfigException, IOException {
    ServerConfig server = loaded.config().server();
    GatewayMetrics metrics = new GatewayMetrics(jvmMetrics);
    PluginCatalog catalog = PluginCatalog.load(loaded.paths().pluginsDir());
    ScheduledExecutorService timers = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "gateway-timer");
      t.setDaemon(true);
      return t;
    });
    PortalConnector portal = null;
    if (loaded.config().relay().enabled()) {
      try {
        portal = PortalConnector.start(loaded.config().relay(), loaded.paths().dataDir(), timers,
            loaded.config().proxy().responseTimeout(), metrics);
      } catch (IOException e) {
        timers.shutdownNow();
        throw new ConfigException("cannot keep the gateway's Portal identity in " + loaded.paths().dataDir()
            + " (server.data_dir): " + e.getMessage(), e);
      }
    }
    RuntimeHolder runtimes;
    FilterFactory filterFactory = new FilterFactory(catalog, metrics.registry(), Clock.systemUTC());
    try {
      runtimes = new RuntimeHolder(filterFactory, loaded, portal);
    } catch (ConfigException e) {
      filterFactory.close(); // lasting state a refused configuration created
      if (portal != null) {
        portal.close();
      }
      timers.shutdownNow();
      throw e;
    }
    HttpServer proxy;
    HttpServer admin;
    ServerTls tls = null;
    try {
      if (loaded.paths().tlsKeystore() != null) {
        tls = ServerTls.load(loaded.paths().tlsKeystore(), server.tls().keystorePassword(), server.tls().keyPassword(),
            server.tls().minVersion());
      }
      proxy = bind(server.httpProvider(), server.listen(), "server.listen", server.frontLimits(),
          tls == null ? null : tls.configurator());
      try {
        admin = bind(server.httpProvider(), server.adminListen(), "server.admin_listen", server.frontLimits(), null);
      } catch (IOException e) {
        proxy.stop(0);
        throw e;
      }
    } catch (IOException | ConfigException e) {
      runtimes.close();
      if (portal != null) {
        portal.close();
      }
      timers.shutdownNow();
      throw e;
    }
    String scheme = loaded.paths().tlsKeystore() == null ? "http" : "https";
    PluginEndpoints publicEndpoints = PluginEndpoints.publicListener(runtimes, scheme);
    ProxyHandler handler = new ProxyHandler(runtimes, metrics, timers, scheme, new ProxyHandler.OtherPaths() {
      @Override
      public boolean serves(String rawPath) {
        return publicEndpoints.servesPublic(rawPath);
      }

      @Override
      public void serve(HttpExchange exchange) throws IOException {
        publicEndpoints.serve(exchange);
      }
    });
    Gateway gateway = new Gateway(proxy, admin, runtimes, handler, timers, portal);
    proxy.createContext("/", handler);
    PortalConnector relay = portal;
    admin.createContext("/", new AdminHandler(metrics.registry(), gateway::readiness,
        () -> {
          metrics.relayConnected(relay != null && relay.isConnected());
          if (proxy instanceof dev.portalgateway.host.front.FrontServer front) {
            metrics.frontServer(front.openConnections(), front.refusedConnections(), front.malformedRequests());
          }
          if (relay != null) {
            relay.updateMetrics();
          }
        }, PluginEndpoints.admin(runtimes), new AdminAccess(server.adminHosts(), server.adminToken())));
    proxy.start();
    admin.start();
    if (tls != null && !server.tls().reloadInterval().isZero()) {
      ServerTls certificate = tls;
      long every = server.tls().reloadInterval().toMillis();
      timers.scheduleWithFixedDelay(certificate::reloadIfChanged, every, every, TimeUnit.MILLISECONDS);
    }
    // Releases close expired keep-alive connections as they go; this covers an upstream that went
    // quiet, whose idle connections would otherwise stay open until its next request.
    timers.scheduleWithFixedDelay(() -> {
      try {
        runtimes.peek().routes().evictExpiredConnections();
      } catch (RuntimeException e) {
        JsonLog.warn("gateway", "closing idle upstream connections failed", "error", e.toString());
      }
    }, 1, 1, TimeUnit.SECONDS);
    PortalConnector pools = portal;
    timers.scheduleWithFixedDelay(() -> {
      try {
        metrics.forgetIdleRoutes(label -> pools != null && pools.countsInto(label));
        filterFactory.forgetIdleMetrics();
      } catch (RuntimeException e) {
        JsonLog.warn("gateway", "removing the metrics of idle routes failed", "error", e.toString());
      }
    }, 1, 1, TimeUnit.MINUTES);
    if (loaded.paths().configFile() != null && !server.configReloadInterval().isZero()) {
      new ConfigWatcher(loaded.paths().configFile(), loader, runtimes, metrics).start(timers, server.configReloadInterval());
    }
    JsonLog.info("gateway", "Portal Gateway is serving",
        "listen", describe(proxy.getAddress()), "admin", describe(admin.getAddress()), "tls", tls != null,
        "http_provider", server.httpProvider(),
        "config", loaded.paths().configFile() == null ? "(defaults)" : loaded.paths().configFile().toString(),
        "upstreams", String.join(",", loaded.config().upstreams().keySet()),
        "plugins", String.join(",", runtimes.peek().pluginNames()));
    return gateway;
  }

  private static HttpServer bind(String provider, String listen, String key,
      dev.portalgateway.host.front.FrontLimits limits, com.sun.net.httpserver.HttpsConfigurator tls) throws IOException {
    InetSocketAddress address = ListenAddress.parse(listen);
    try {
      return HttpServerFactory.create(provider, address, limits, tls);
    } catch (BindException e) {
      throw new BindException("cannot listen on " + listen + " (" + key + "): " + e.getMessage()
          + "; another process may be using the port, pick another one");
    }
  }

  private static String describe(InetSocketAddress a) {
    java.net.InetAddress ip = a.getAddress();
    if (ip instanceof java.net.Inet6Address) {
      return (ip.isAnyLocalAddress() ? "[::]" : "[" + ip.getHostAddress() + "]") + ":" + a.getPort();
    }
    return ip.getHostAddress() + ":" + a.getPort();
  }

  /** @return the proxy listener's bound address (port 0 in the configuration picks a free one) */
  public InetSocketAddress address() {
    return proxyServer.getAddress();
  }

  /** @return the admin listener's bound address */
  public InetSocketAddress adminAddress() {
    return adminServer.getAddress();
  }

  /** @return the configuration generations */
  public RuntimeHolder runtimes() {
    return runtimes;
  }

  /** @return whether the gateway takes traffic: started, not draining, and connected to its relay */
  public boolean isReady() {
    return readiness() == null;
  }

  /** @return why the gateway is not ready, or {@code null} when it is */
  String readiness() {
    if (draining || stopped) {
      return "draining";
    }
    if (portal != null && !portal.isConnected()) {
      return "not connected to a Portal relay";
    }
    return null;
  }

  /**
   * Stops taking new connections, lets in-flight requests finish for up to {@code grace}, then
   * closes everything. {@code /readyz} answers 503 from the first moment, so load balancers stop
   * sending traffic while requests drain.
   */
  public synchronized void drainAndStop(Duration grace) {
    if (stopped) {
      return;
    }
    draining = true;
    proxyHandler.startDraining();
    JsonLog.info("gateway", "draining in-flight requests", "in_flight", proxyHandler.inFlight(),
        "grace_seconds", grace.toSeconds());
    // Our own wait, not HttpServer.stop(delay): providers differ (robaho always sleeps the whole
    // delay), and this way the gateway exits as soon as the last request is done.
    long deadline = System.nanoTime() + grace.toNanos();
    while (proxyHandler.inFlight() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    int abandoned = proxyHandler.inFlight();
    if (abandoned > 0) {
      JsonLog.warn("gateway", "grace period over; closing requests still in flight", "in_flight", abandoned);
    }
    proxyServer.stop(0);
    adminServer.stop(0);
    runtimes.close();
    if (portal != null) {
      portal.close();
    }
    timers.shutdownNow();
    stopped = true;
    JsonLog.info("gateway", "stopped");
  }

  @Override
  public void close() {
    drainAndStop(Duration.ZERO);
  }
}
