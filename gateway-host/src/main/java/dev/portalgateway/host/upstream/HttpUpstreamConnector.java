package dev.portalgateway.host.upstream;

import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.config.Durations;
import dev.portalgateway.host.http1.Http1Client;
import dev.portalgateway.host.http1.Http1Exception;
import dev.portalgateway.host.http1.SocketTransport;
import dev.portalgateway.host.http1.TlsTransport;
import dev.portalgateway.host.http1.TransportPool;
import dev.portalgateway.host.proxy.HopByHop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;

/**
 * The {@code http} connector: forwards to one configured plain-HTTP(S) upstream over pooled
 * keep-alive connections, streaming both ways, with the gateway's own HTTP/1.1 codec (the same
 * one the Portal connector runs over its encrypted streams).
 */
public final class HttpUpstreamConnector implements Connector {
  /**
   * Idle connections kept per upstream: as many as a burst of concurrent requests used, so the
   * next burst reuses them instead of connecting again. The surplus of a burst that does not
   * come back is closed once idle past {@code idle_timeout} ({@link #evictExpired}).
   */
  private static final int MAX_IDLE = 256;

  private final String name;
  private final String baseUrl;
  private final String basePath;
  private final Duration responseTimeout;
  private final TransportPool pool;
  private final Http1Client client;

  /**
   * @param name the upstream's name, for messages
   * @param baseUrl its base URL, {@code http[s]://host[:port][/base]}
   * @param connectTimeout how long to wait for a connection
   * @param responseTimeout how long to wait for the response head once the request is sent
   * @param idleTimeout how long an unused keep-alive connection is kept. Shorter than the
   *     upstream's own keep-alive timeout is best; a connection the upstream closed is detected anyway.
   */
  public HttpUpstreamConnector(String name, String baseUrl, Duration connectTimeout, Duration responseTimeout,
      Duration idleTimeout) {
    this.name = name;
    this.baseUrl = baseUrl;
    this.responseTimeout = responseTimeout;
    URI uri = URI.create(baseUrl);
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    String bracketed = uri.getHost(); // IPv6 literals come back in brackets, as the Host header wants them
    String host = bracketed.startsWith("[") ? bracketed.substring(1, bracketed.length() - 1) : bracketed;
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    int connectMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
    this.pool = new TransportPool(
        tls ? () -> TlsTransport.connect(host, port, connectMillis)
            : () -> SocketTransport.connect(new InetSocketAddress(host, port), connectMillis),
        MAX_IDLE, idleTimeout.toNanos());
    boolean defaultPort = uri.getPort() < 0;
    String hostHeader = bracketed + (defaultPort ? "" : ":" + port);
    this.client = new Http1Client(pool, hostHeader, responseTimeout.toMillis());
  }

  @Override
  public Response send(Request request) throws IOException {
    Response response;
    try {
      response = client.send(request.method(), basePath + request.target(), request.headers(), request.body());
    } catch (Http1Exception e) {
      throw translate(e);
    }
    return response.withHeaders(HopByHop.strip(response.headers()));
  }

  private ProblemException translate(Http1Exception e) {
    // The client learns the route name only; the upstream URL goes to the gateway's log (as the cause).
    String check = "Check that upstream '" + name + "' is running and reachable from the gateway.";
    IOException cause = new IOException(baseUrl + ": " + e.getMessage(), e);
    return switch (e.kind()) {
      case CONNECT -> failure(502, "upstream-unreachable", "Bad Gateway",
          "The gateway could not connect to upstream '" + name + "' (" + e.reason() + ").", check, cause);
      case TIMEOUT -> failure(504, "upstream-timeout", "Gateway Timeout",
          "Upstream '" + name + "' did not answer within " + Durations.format(responseTimeout) + ".",
          "Raise proxy.response_timeout (or upstreams." + name + ".response_timeout) for slow services.", cause);
      case PROTOCOL -> failure(502, "upstream-protocol-error", "Bad Gateway",
          "Upstream '" + name + "' answered with something that is not valid HTTP/1.1: " + e.getMessage() + ".",
          "Check that upstream '" + name + "' is an HTTP service.", cause);
      case BROKEN -> failure(502, "upstream-failed", "Bad Gateway",
          "The connection to upstream '" + name + "' broke before a complete response head arrived ("
              + e.reason() + ").",
          "Check the upstream service's logs.", cause);
    };
  }

  private static ProblemException failure(int status, String type, String title, String detail, String hint, Throwable cause) {
    return new ProblemException(Problem.of(status, type, title, detail, hint), Headers.empty(), cause);
  }

  /**
   * Closes the keep-alive connections idle past the timeout. Each release does this too, but an
   * upstream that stops getting requests would otherwise keep its connections (and the upstream's
   * sockets) open indefinitely; the gateway calls this on a timer.
   */
  public void evictExpired() {
    pool.evictExpired();
  }

  /** Keeps no idle connection from now on: no new request will come (its generation was replaced). */
  public void keepNoIdle() {
    pool.keepNone();
  }

  @Override
  public void close() {
    client.close();
  }

}
