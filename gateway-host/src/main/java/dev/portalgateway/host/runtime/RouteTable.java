package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.host.config.CorsConfig;
import dev.portalgateway.host.config.GatewayConfig;
import dev.portalgateway.host.config.ProxyConfig;
import dev.portalgateway.host.config.UpstreamConfig;
import dev.portalgateway.host.proxy.CorsPolicy;
import dev.portalgateway.host.upstream.HttpUpstreamConnector;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which connector serves each name under {@code /peer/}: the configured plain upstreams. Names
 * that are not configured fall through to the {@code fallback} connector (the Portal relay) or,
 * without one, are answered 404.
 */
public final class RouteTable implements AutoCloseable {
  /** The metrics label of every name that is not a configured route. */
  public static final String UNKNOWN = "unknown";

  private final Map<String, Route> routes;
  private final CorsPolicy defaultCors;
  private final Duration defaultSseKeepalive;
  private final Connector fallback;
  private final String routePrefix;

  private RouteTable(Map<String, Route> routes, CorsPolicy defaultCors, Duration defaultSseKeepalive, Connector fallback,
      String routePrefix) {
    this.routePrefix = routePrefix;
    this.routes = routes;
    this.defaultCors = defaultCors;
    this.defaultSseKeepalive = defaultSseKeepalive;
    this.fallback = fallback;
  }

  /** Builds the table of one configuration generation, with no fallback for unknown names. */
  public static RouteTable of(GatewayConfig config) {
    return of(config, null);
  }

  /**
   * Builds the table of one configuration generation; it owns the connectors it creates, not
   * {@code fallback}.
   *
   * @param fallback serves names that are not configured upstreams (the Portal relay), or {@code null}
   */
  public static RouteTable of(GatewayConfig config, Connector fallback) {
    CorsPolicy defaultCors = CorsPolicy.of(config.cors());
    Map<String, Route> routes = new LinkedHashMap<>();
    for (Map.Entry<String, UpstreamConfig> e : config.upstreams().entrySet()) {
      UpstreamConfig u = e.getValue();
      ProxyConfig effective = config.proxy().overriddenBy(u);
      CorsConfig cors = u.cors();
      java.net.URI url = java.net.URI.create(u.url());
      String path = url.getRawPath() == null ? "" : url.getRawPath();
      String basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
      String origin = (url.getScheme() + "://" + url.getRawAuthority()).toLowerCase(java.util.Locale.ROOT);
      routes.put(e.getKey(), new Route(e.getKey(),
          new HttpUpstreamConnector(e.getKey(), u.url(), effective.connectTimeout(), effective.responseTimeout(),
              effective.idleTimeout()),
          cors == null ? defaultCors : CorsPolicy.of(cors), effective.sseKeepalive(), basePath, origin));
    }
    return new RouteTable(Map.copyOf(routes), defaultCors, config.proxy().sseKeepalive(), fallback,
        config.server().routePrefix());
  }

  /** @return the configured route of this name, or {@code null} */
  public Route route(String name) {
    return routes.get(name);
  }

  /** @return the label metrics use for {@code name}: a configured upstream or a lease the relay lists */
  public String metricsLabel(String name) {
    if (routes.containsKey(name)) {
      return name;
    }
    return fallback instanceof dev.portalgateway.host.portal.PortalConnector portal && portal.isKnownLease(name)
        ? name : UNKNOWN;
  }

  /** @return the CORS policy for {@code name} */
  public CorsPolicy cors(String name) {
    Route r = routes.get(name);
    return r == null ? defaultCors : r.cors();
  }

  /** @return the upstream's base path for {@code name}, empty when unknown */
  public String basePath(String name) {
    Route r = routes.get(name);
    return r == null ? "" : r.basePath();
  }

  /** @return the upstream's origin for {@code name}, or {@code null} when unknown */
  public String origin(String name) {
    Route r = routes.get(name);
    return r == null ? null : r.origin();
  }

  /**
   * The connector's response as the client must see it: the upstream's own URLs in
   * {@code Location}, {@code Content-Location} and {@code Set-Cookie} mapped into the route's
   * space under the route prefix, as nginx's {@code proxy_redirect} and {@code proxy_cookie_path} do.
   */
  Response fromUpstream(String name, Response response) {
    Headers h = response.headers();
    Headers mapped = dev.portalgateway.host.proxy.UpstreamLocations.mapped(h, routePrefix + name, basePath(name), origin(name));
    return mapped == h ? response : response.withHeaders(mapped);
  }

  /** @return the SSE keep-alive interval for {@code name} */
  public Duration sseKeepalive(String name) {
    Route r = routes.get(name);
    return r == null ? defaultSseKeepalive : r.sseKeepalive();
  }

  /**
   * @param name the name from the path
   * @return the connector that serves it
   * @throws ProblemException 404 when nothing serves it
   */
  Connector connectorFor(String name) throws ProblemException {
    Route r = routes.get(name);
    if (r != null) {
      return r.connector();
    }
    if (fallback != null) {
      return fallback;
    }
    throw new ProblemException(Problem.of(404, "unknown-route", "Not Found",
        "No upstream or lease is named '" + name + "'.",
        "Use /peer/NAME/... with a name from upstreams: in the gateway configuration "
            + "(Portal leases are reached when relay.enabled is true)."));
  }

  /** Closes the upstreams' keep-alive connections that have been idle past their timeout. */
  public void evictExpiredConnections() {
    forEachUpstream(HttpUpstreamConnector::evictExpired);
  }

  /**
   * Closes the upstreams' idle keep-alive connections and keeps none from now on: called when the
   * generation is replaced. The gateway's sweep covers the current generation only, and a
   * replaced one stays open while a request on it lasts, an event stream perhaps for hours.
   */
  void keepNoIdleConnections() {
    forEachUpstream(HttpUpstreamConnector::keepNoIdle);
  }

  private void forEachUpstream(java.util.function.Consumer<HttpUpstreamConnector> action) {
    for (Route r : routes.values()) {
      if (r.connector() instanceof HttpUpstreamConnector upstream) {
        action.accept(upstream);
      }
    }
  }

  @Override
  public void close() {
    routes.values().forEach(r -> r.connector().close());
  }
}
