package dev.portalgateway.host.config;

import java.time.Duration;

/**
 * The {@code proxy:} section: defaults for every upstream, each overridable per upstream.
 *
 * @param connectTimeout how long to wait for a connection to the upstream; failing gets 502
 * @param responseTimeout how long to wait for the upstream's response head; failing gets 504.
 *     Once the head has arrived the body may stream for as long as it lasts: there is no cap on
 *     long-running streams.
 * @param sseKeepalive when an event stream is idle this long, send a {@code :} comment so that
 *     intermediaries keep it open; 0 turns it off
 * @param idleTimeout how long a keep-alive connection to the upstream is kept unused before the
 *     gateway closes it
 * @param writeTimeout how long a write of a response to a client may make no progress (the client
 *     stopped reading) before the exchange is aborted and its upstream connection let go; gateway
 *     wide, not per upstream
 */
public record ProxyConfig(Duration connectTimeout, Duration responseTimeout, Duration sseKeepalive, Duration idleTimeout,
    Duration writeTimeout) {
  public ProxyConfig {
    connectTimeout = connectTimeout == null ? Duration.ofSeconds(5) : connectTimeout;
    responseTimeout = responseTimeout == null ? Duration.ofSeconds(300) : responseTimeout;
    sseKeepalive = sseKeepalive == null ? Duration.ZERO : sseKeepalive;
    idleTimeout = idleTimeout == null ? Duration.ofSeconds(30) : idleTimeout;
    writeTimeout = writeTimeout == null ? Duration.ofSeconds(60) : writeTimeout;
  }

  /** @return these defaults overridden by whatever {@code upstream} sets */
  public ProxyConfig overriddenBy(UpstreamConfig upstream) {
    return new ProxyConfig(
        upstream.connectTimeout() != null ? upstream.connectTimeout() : connectTimeout,
        upstream.responseTimeout() != null ? upstream.responseTimeout() : responseTimeout,
        upstream.sseKeepalive() != null ? upstream.sseKeepalive() : sseKeepalive,
        upstream.idleTimeout() != null ? upstream.idleTimeout() : idleTimeout,
        writeTimeout);
  }
}
