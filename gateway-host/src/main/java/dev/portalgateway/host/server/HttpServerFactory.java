package dev.portalgateway.host.server;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Creates {@link HttpServer}s from the provider the configuration names. The gateway codes only
 * against the {@code com.sun.net.httpserver} API; which implementation serves is a deployment
 * choice, benchmarked in {@code docs/performance.md}.
 */
public final class HttpServerFactory {
  private static final String PROVIDER_PROPERTY = "com.sun.net.httpserver.HttpServerProvider";
  private static final String JDK_PROVIDER = "sun.net.httpserver.DefaultHttpServerProvider";

  private HttpServerFactory() {}

  /**
   * @param provider {@code robaho} or {@code jdk}
   * @param address where to listen
   * @param requestReadTimeout how long a client may take to send its whole request (JDK provider)
   * @return an unstarted server whose handlers run on virtual threads
   * @throws IOException when the address cannot be bound
   */
  public static HttpServer create(String provider, InetSocketAddress address, Duration requestReadTimeout) throws IOException {
    return create(provider, address, requestReadTimeout, null);
  }

  /**
   * @param tls the TLS context for an HTTPS listener, or {@code null} for plain HTTP
   * @see #create(String, InetSocketAddress, Duration)
   */
  public static HttpServer create(String provider, InetSocketAddress address, Duration requestReadTimeout,
      HttpsConfigurator tls) throws IOException {
    return create(provider, address, new dev.portalgateway.host.front.FrontLimits(10_000, Duration.ofSeconds(60),
        Duration.ofSeconds(10), requestReadTimeout, 64 * 1024), tls);
  }

  /**
   * @param limits the front server's limits; the {@code portal} provider takes them all, the JDK's
   *     only the request read timeout (a JVM-wide property, read once), robaho's none
   * @see #create(String, InetSocketAddress, Duration)
   */
  public static HttpServer create(String provider, InetSocketAddress address, dev.portalgateway.host.front.FrontLimits limits,
      HttpsConfigurator tls) throws IOException {
    if (provider.equals("portal")) {
      HttpServer server = dev.portalgateway.host.front.FrontServer.create(address, 1024, limits, tls);
      server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      return server;
    }
    Duration requestReadTimeout = limits.requestReadTimeout();
    HttpServerProvider p = switch (provider) {
      case "robaho" -> robahoProvider();
      case "jdk" -> jdkProvider(requestReadTimeout);
      default -> throw new IllegalArgumentException("unknown HTTP server provider '" + provider + "'");
    };
    HttpServer server;
    if (tls == null) {
      server = p.createHttpServer(address, 1024);
    } else {
      HttpsServer https = p.createHttpsServer(address, 1024);
      https.setHttpsConfigurator(tls);
      server = https;
    }
    ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(virtualThreads);
    return server;
  }

  /**
   * robaho's provider, with Nagle's algorithm off. Left on (robaho's default), a small response
   * waits for the client's delayed ACK: about 40 ms per keep-alive request, 350 requests/s on our
   * benchmark instead of 16,000 (docs/performance.md). Read once, when robaho's configuration loads.
   */
  private static HttpServerProvider robahoProvider() {
    if (System.getProperty("robaho.net.httpserver.nodelay") == null) {
      System.setProperty("robaho.net.httpserver.nodelay", "true");
    }
    return new robaho.net.httpserver.DefaultHttpServerProvider();
  }

  /**
   * The JDK's own provider, even when another provider's service file is on the class path: the
   * system property is the API's documented way to pick one, and it is consulted first.
   */
  private static HttpServerProvider jdkProvider(Duration requestReadTimeout) {
    // Read once, when the JDK server's configuration class loads. It bounds the time from the
    // request line to the last byte of the body: slow-loris clients are cut off, and uploads that
    // take longer than this need a larger server.request_read_timeout.
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", Long.toString(Math.max(1, requestReadTimeout.toSeconds())));
    }
    // Nagle's algorithm off, as for robaho: the gateway sends a response head on its own when the
    // body is not there yet (an event stream's first event may be long in coming), and with Nagle
    // on, the body's first segment then waits for the client's delayed ACK, 40 ms (p99 44 ms at 16
    // connections in bench/run-ab.sh, docs/performance.md).
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    String previous = System.getProperty(PROVIDER_PROPERTY);
    if (previous == null) {
      System.setProperty(PROVIDER_PROPERTY, JDK_PROVIDER);
    }
    HttpServerProvider p = HttpServerProvider.provider();
    if (!p.getClass().getName().equals(JDK_PROVIDER)) {
      throw new IllegalStateException("server.http_provider is 'jdk' but this JVM already uses "
          + p.getClass().getName() + " (set by -D" + PROVIDER_PROPERTY + ")");
    }
    return p;
  }
}
