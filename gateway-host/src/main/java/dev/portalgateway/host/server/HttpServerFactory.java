package dev.portalgateway.host.server;

import com.sun.net.httpserver.HttpServer;
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
   * @param headerReadTimeout how long a client may take to send its request head (JDK provider)
   * @return an unstarted server whose handlers run on virtual threads
   * @throws IOException when the address cannot be bound
   */
  public static HttpServer create(String provider, InetSocketAddress address, Duration headerReadTimeout) throws IOException {
    HttpServer server = switch (provider) {
      case "robaho" -> new robaho.net.httpserver.DefaultHttpServerProvider().createHttpServer(address, 1024);
      case "jdk" -> jdkProvider(headerReadTimeout).createHttpServer(address, 1024);
      default -> throw new IllegalArgumentException("unknown HTTP server provider '" + provider + "'");
    };
    ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(virtualThreads);
    return server;
  }

  /**
   * The JDK's own provider, even when another provider's service file is on the class path: the
   * system property is the API's documented way to pick one, and it is consulted first.
   */
  private static HttpServerProvider jdkProvider(Duration headerReadTimeout) {
    // Read once, when the JDK server's configuration class loads: bounds slow request heads.
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", Long.toString(Math.max(1, headerReadTimeout.toSeconds())));
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
