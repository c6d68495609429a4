package dev.portalgateway.host.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.time.Duration;

/**
 * One entry of {@code upstreams:}: either a URL string or a mapping with the URL and overrides.
 *
 * @param url the base URL, {@code http://host:port[/base/path]}
 * @param connectTimeout overrides {@code proxy.connect_timeout}
 * @param responseTimeout overrides {@code proxy.response_timeout}
 * @param sseKeepalive overrides {@code proxy.sse_keepalive}
 * @param idleTimeout overrides {@code proxy.idle_timeout}
 * @param cors overrides the top-level {@code cors:} policy for this route
 */
public record UpstreamConfig(
    String url, Duration connectTimeout, Duration responseTimeout, Duration sseKeepalive, Duration idleTimeout,
    CorsConfig cors) {

  @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
  public UpstreamConfig {}

  /** {@code backend: "http://127.0.0.1:3000"} */
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static UpstreamConfig ofUrl(String url) {
    return new UpstreamConfig(url, null, null, null, null, null);
  }
}
