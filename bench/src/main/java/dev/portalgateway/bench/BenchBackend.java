package dev.portalgateway.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The upstream for gateway benchmarks: answers every request on 127.0.0.1 with 200 and the same
 * 1 KiB body, doing no other work, so that what a benchmark measures is the gateway in front.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.portalgateway.bench.BenchBackend --port 18080 \
 *     [--provider robaho|jdk] [--body-bytes 1024] [--max-lifetime 1800s]
 * </pre>
 *
 * <p>It serves with robaho's httpserver by default: on this project's 2-core loopback setup,
 * with TCP_NODELAY on for both, it answered the load generator directly about 1.5 times as fast as
 * the JDK's built-in server (41,700 against 27,700 requests/s at 16 connections; see
 * docs/performance.md), and the backend must be the fastest part of the chain so that it is never
 * the bottleneck. {@code --provider jdk} is there to re-check that choice.
 *
 * <p>It prints {@code BenchBackend listening on 127.0.0.1:PORT} once it accepts connections, and
 * exits by itself after {@code --max-lifetime} in case whoever started it forgets to stop it.
 */
public final class BenchBackend {
  private BenchBackend() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    int port = 0;
    String provider = "robaho";
    int bodyBytes = 1024;
    long lifetimeMillis = 1800_000;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--provider" -> provider = args[i + 1];
        case "--body-bytes" -> bodyBytes = Integer.parseInt(args[i + 1]);
        case "--max-lifetime" -> lifetimeMillis = LoadGenerator.parseDuration(args[i + 1]).toMillis();
        default -> {
          System.err.println("BenchBackend: unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (args.length % 2 != 0) {
      System.err.println("BenchBackend: " + args[args.length - 1] + " needs a value");
      System.exit(2);
    }

    // Both servers leave Nagle's algorithm on unless told otherwise. A response written as head
    // then body would wait for the client's delayed ACK (about 40 ms on Linux) before its body
    // leaves; robaho's server does exactly that, capping a connection at about 23 requests/s. Set
    // before either server's configuration class loads, which reads these once.
    System.setProperty("robaho.net.httpserver.nodelay", "true");
    System.setProperty("sun.net.httpserver.nodelay", "true");

    byte[] body = new byte[bodyBytes];
    // Printable, so a curl against the backend shows something sensible.
    Arrays.fill(body, (byte) 'x');
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    HttpServer server = switch (provider) {
      case "robaho" -> new robaho.net.httpserver.DefaultHttpServerProvider().createHttpServer(address, 1024);
      case "jdk" -> jdkProvider().createHttpServer(address, 1024);
      default -> throw new IllegalArgumentException("--provider must be robaho or jdk");
    };
    // Virtual threads, as the gateway uses: the handler never blocks for long, so this mostly
    // decides how the server hands requests over, the same way for both providers.
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", exchange -> respond(exchange, body, false));
    // The same bodies chunked (no Content-Length), as streamed and model answers come: the case
    // where small writes and delayed ACKs used to cost 40 ms (docs/performance.md).
    server.createContext("/chunked", exchange -> respond(exchange, body, true));
    byte[] body64k = new byte[64 * 1024];
    Arrays.fill(body64k, (byte) 'x');
    server.createContext("/chunked-64k", exchange -> respond(exchange, body64k, true));
    server.start();
    System.out.println("BenchBackend listening on 127.0.0.1:" + server.getAddress().getPort()
        + " (" + provider + ", " + bodyBytes + "-byte body)");
    System.out.flush();

    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(0);
      stop.countDown();
    }, "bench-backend-stop"));
    if (!stop.await(lifetimeMillis, TimeUnit.MILLISECONDS)) {
      System.out.println("BenchBackend: --max-lifetime reached, stopping");
      server.stop(0);
      System.exit(0);
    }
  }

  /**
   * The JDK's own implementation. Its class is not exported, so it is named through the system
   * property the API consults first; that way a robaho service file on the class path cannot win.
   */
  private static HttpServerProvider jdkProvider() {
    String jdk = "sun.net.httpserver.DefaultHttpServerProvider";
    System.setProperty("com.sun.net.httpserver.HttpServerProvider", jdk);
    HttpServerProvider p = HttpServerProvider.provider();
    if (!p.getClass().getName().equals(jdk)) {
      throw new IllegalStateException("wanted the JDK's HTTP server but got " + p.getClass().getName());
    }
    return p;
  }

  private static void respond(HttpExchange exchange, byte[] body, boolean chunked) throws IOException {
    try (exchange) {
      // Read whatever the request carried, so the connection is ready for the next request.
      try (InputStream in = exchange.getRequestBody()) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
      exchange.sendResponseHeaders(200, chunked ? 0 : body.length);
      exchange.getResponseBody().write(body);
    }
  }
}
