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
 * @param httpProvider which {@code com.sun.net.httpserver} implementation serves: {@code robaho} or {@code jdk}
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
    String routePrefix) {

  /**
   * The default provider, chosen in docs/performance.md: robaho is faster, but reads a request
   * head of any size into memory and does not bound slow heads; the JDK's server limits both.
   */
  public static final String DEFAULT_HTTP_PROVIDER = "jdk";

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
  }

  /** Where routes are mounted unless {@code server.route_prefix} says otherwise. */
  public static final String DEFAULT_ROUTE_PREFIX = "/peer/";
}
