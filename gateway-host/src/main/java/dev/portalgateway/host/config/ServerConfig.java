package dev.portalgateway.host.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code server:} section.
 *
 * @param listen address of the proxy listener, {@code host:port} or {@code :port}
 * @param adminListen address of the admin listener ({@code /metrics}, {@code /healthz}, {@code /readyz})
 * @param pluginsDir where plugin jars are; default {@code plugins/} next to the gateway jar
 * @param dataDir where keys, identities and queues live; default {@code data/}
 * @param httpProvider which {@code com.sun.net.httpserver} implementation serves: {@code portal} (the
 *     gateway's own, the default), {@code jdk} or {@code robaho}
 * @param maxHeaderBytes the largest request head (request line and headers) accepted; larger gets 431
 * @param maxBodyBytes the largest request body accepted; larger gets 413
 * @param requestReadTimeout with the {@code jdk} provider, how long a client may take to send its
 *     whole request, head and body (the JDK server's {@code maxReqTime}); the {@code robaho}
 *     provider instead closes connections that stay silent after connecting
 * @param shutdownGrace how long SIGTERM waits for in-flight requests before exiting
 * @param configReloadInterval how often the config file is checked for changes; 0 turns reloading off
 * @param trustedProxies CIDRs of proxies in front of the gateway whose {@code X-Forwarded-For} is believed
 * @param accessLog whether to write one JSON access-log line per request
 * @param tls when set, the proxy listener serves HTTPS with this certificate
 * @param publicUrl the gateway's base URL as clients reach it, such as
 *     {@code https://gateway.example.com}, for absolute URLs plugins write (OAuth metadata); unset,
 *     each request's scheme and {@code Host} are used. Normalized without a trailing slash.
 * @param routePrefix where routes are mounted on the proxy listener, {@code /peer/} by default:
 *     starts and ends with {@code /}
 * @param maxConnections (provider {@code portal}) client connections held at once; one more is
 *     answered {@code 503} and closed
 * @param clientIdleTimeout (provider {@code portal}) how long a keep-alive client connection may
 *     wait for its next request
 * @param headerReadTimeout (provider {@code portal}) how long a client may take to send a request
 *     head, from its first byte
 * @param adminHosts host names the admin listener answers besides IP literals (a {@code Host}
 *     naming anything else is refused, so that a web page cannot reach it by DNS rebinding)
 * @param adminToken when set, {@code /metrics} and plugin admin endpoints need
 *     {@code Authorization: Bearer <token>}; {@code /healthz} and {@code /readyz} never do
 */
public record ServerConfig(
    String listen,
    String adminListen,
    String pluginsDir,
    String dataDir,
    String httpProvider,
    Long maxHeaderBytes,
    Long maxBodyBytes,
    Duration requestReadTimeout,
    Duration shutdownGrace,
    Duration configReloadInterval,
    List<String> trustedProxies,
    Boolean accessLog,
    TlsConfig tls,
    String publicUrl,
    String routePrefix,
    Integer maxConnections,
    Duration clientIdleTimeout,
    Duration headerReadTimeout,
    List<String> adminHosts,
    String adminToken) {

  /**
   * The default provider: the gateway's own ({@link dev.portalgateway.host.front.FrontServer}),
   * chosen in docs/architecture.md and docs/performance.md: strict parsing, limits per instance,
   * thousands of keep-alive clients, upgrades; as fast as the JDK's server up to 64 connections
   * and without its errors beyond. {@code jdk} and {@code robaho} stay available.
   */
  public static final String DEFAULT_HTTP_PROVIDER = "portal";

  public ServerConfig {
    listen = listen == null ? ":8080" : listen; // every interface, IPv4 and IPv6
    adminListen = adminListen == null ? "127.0.0.1:9090" : adminListen;
    dataDir = dataDir == null ? "data" : dataDir;
    httpProvider = httpProvider == null ? DEFAULT_HTTP_PROVIDER : httpProvider;
    maxHeaderBytes = maxHeaderBytes == null ? 64 * 1024L : maxHeaderBytes;
    maxBodyBytes = maxBodyBytes == null ? 10 * 1024 * 1024L : maxBodyBytes;
    requestReadTimeout = requestReadTimeout == null ? Duration.ofSeconds(60) : requestReadTimeout;
    shutdownGrace = shutdownGrace == null ? Duration.ofSeconds(30) : shutdownGrace;
    configReloadInterval = configReloadInterval == null ? Duration.ofSeconds(2) : configReloadInterval;
    trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
    accessLog = accessLog == null ? Boolean.TRUE : accessLog;
    publicUrl = publicUrl == null || publicUrl.isBlank() ? null
        : publicUrl.strip().endsWith("/") ? publicUrl.strip().substring(0, publicUrl.strip().length() - 1) : publicUrl.strip();
    routePrefix = routePrefix == null ? DEFAULT_ROUTE_PREFIX : routePrefix;
    maxConnections = maxConnections == null ? 10_000 : maxConnections;
    clientIdleTimeout = clientIdleTimeout == null ? Duration.ofSeconds(60) : clientIdleTimeout;
    headerReadTimeout = headerReadTimeout == null ? Duration.ofSeconds(10) : headerReadTimeout;
    adminHosts = adminHosts == null ? List.of("localhost")
        : adminHosts.stream().map(h -> h.strip().toLowerCase(java.util.Locale.ROOT)).toList();
    adminToken = adminToken == null || adminToken.isBlank() ? null : adminToken.strip();
  }

  @Override
  public String toString() {
    return "ServerConfig[listen=" + listen + ", adminListen=" + adminListen + "]"; // never the admin token
  }

  /** @return the front server's limits from these settings */
  public dev.portalgateway.host.front.FrontLimits frontLimits() {
    return new dev.portalgateway.host.front.FrontLimits(maxConnections, clientIdleTimeout, headerReadTimeout,
        requestReadTimeout, (int) Math.min(Integer.MAX_VALUE, Math.max(256, maxHeaderBytes)));
  }

  /** Where routes are mounted unless {@code server.route_prefix} says otherwise. */
  public static final String DEFAULT_ROUTE_PREFIX = "/peer/";
}
