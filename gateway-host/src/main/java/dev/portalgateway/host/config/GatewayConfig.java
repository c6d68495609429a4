package dev.portalgateway.host.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration, as bound from YAML, with defaults applied. Every key is documented in
 * {@code docs/configuration.md}; keep the two in step.
 *
 * @param server listeners, directories, limits and lifecycle
 * @param proxy how requests are forwarded: timeouts and stream keep-alives
 * @param cors the default CORS policy for every route
 * @param relay the Portal relay the gateway connects to
 * @param upstreams plain HTTP upstreams by name, reached at {@code /peer/NAME/...}
 * @param plugins plugin configurations by plugin name; the raw subtrees, bound by each plugin
 */
public record GatewayConfig(
    ServerConfig server,
    ProxyConfig proxy,
    CorsConfig cors,
    RelayConfig relay,
    Map<String, UpstreamConfig> upstreams,
    Map<String, JsonNode> plugins) {

  public GatewayConfig {
    server = server == null ? new ServerConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null) : server;
    proxy = proxy == null ? new ProxyConfig(null, null, null, null, null) : proxy;
    cors = cors == null ? CorsConfig.DISABLED : cors;
    relay = relay == null ? new RelayConfig(null, null, null, null, null, null, null, null, null, null) : relay;
    upstreams = upstreams == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(upstreams));
    plugins = plugins == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(plugins));
  }

  /** @return the configuration used when there is no file at all */
  public static GatewayConfig defaults() {
    return new GatewayConfig(null, null, null, null, null, null);
  }

  /**
   * Where relative paths and defaults point, decided once when the file is loaded.
   *
   * @param configFile the file, or {@code null} when running on defaults
   * @param pluginsDir the resolved plugins directory
   * @param dataDir the resolved data directory
   * @param tlsKeystore the resolved TLS keystore, or {@code null} when the listener is plain HTTP
   */
  public record Paths(Path configFile, Path pluginsDir, Path dataDir, Path tlsKeystore) {}

  /**
   * The {@code relay:} section: how names that are not upstreams reach Portal leases.
   *
   * @param enabled whether to connect to a relay at all; off, unknown names get 404 and
   *     {@code /readyz} does not wait for a relay
   * @param url the relay URL
   * @param urls more relay URLs, tried in order after {@code url} when one fails
   * @param connectTimeout how long to wait for the WebSocket connection to a relay
   * @param handshakeTimeout how long to wait for a lease to accept a connection and finish the
   *     end-to-end handshake
   * @param leaseCacheTtl how long lease names resolved through the relay are remembered
   * @param reconnectMax the longest wait between reconnection attempts (backoff doubles up to it)
   * @param maxIdlePerLease idle end-to-end connections kept per lease
   * @param idleTimeout how long an idle end-to-end connection is kept
   * @param leaseOutageWindow how long a lease the relay listed and no longer lists is answered
   *     {@code 503} (an outage: a tunnel restarting) rather than {@code 404}; also how long the
   *     relay connection must be up without listing it before a lease seen earlier is unknown
   */
  public record RelayConfig(Boolean enabled, String url, List<String> urls, Duration connectTimeout,
      Duration handshakeTimeout, Duration leaseCacheTtl, Duration reconnectMax, Integer maxIdlePerLease,
      Duration idleTimeout, Duration leaseOutageWindow) {
    public RelayConfig {
      enabled = enabled == null ? Boolean.TRUE : enabled;
      url = url == null ? "ws://localhost:4017/relay" : url;
      urls = urls == null ? List.of() : List.copyOf(urls);
      connectTimeout = connectTimeout == null ? Duration.ofSeconds(10) : connectTimeout;
      handshakeTimeout = handshakeTimeout == null ? Duration.ofSeconds(10) : handshakeTimeout;
      leaseCacheTtl = leaseCacheTtl == null ? Duration.ofSeconds(10) : leaseCacheTtl;
      // A relay that is back is used within seconds; the backoff has jitter, so gateways spread out.
      reconnectMax = reconnectMax == null ? Duration.ofSeconds(5) : reconnectMax;
      maxIdlePerLease = maxIdlePerLease == null ? 256 : maxIdlePerLease;
      // Below the idle timeouts of common servers (Node.js closes idle keep-alive connections after
      // 5 s): a connection the service is about to close is not handed to the next request.
      idleTimeout = idleTimeout == null ? Duration.ofSeconds(4) : idleTimeout;
      leaseOutageWindow = leaseOutageWindow == null ? Duration.ofMinutes(10) : leaseOutageWindow;
    }

    /** @return every relay URL, in the order they are tried */
    public List<String> allUrls() {
      List<String> all = new java.util.ArrayList<>();
      all.add(url);
      urls.stream().filter(u -> !all.contains(u)).forEach(all::add);
      return List.copyOf(all);
    }
  }
}
