package dev.portalgateway.host.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.server.HttpServerFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** A real HTTP backend on loopback for proxy tests. Routes are added per test. */
public final class TestBackend implements AutoCloseable {
  private final HttpServer server;

  public TestBackend() throws IOException {
    server = HttpServerFactory.create("jdk", new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(30));
    server.start();
  }

  public TestBackend route(String path, HttpHandler handler) {
    server.createContext(path, exchange -> {
      try (exchange) {
        handler.handle(exchange);
      }
    });
    return this;
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Sends a small text response. */
  public static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Describes the request as the backend saw it: method, path, query, headers (lower-cased names), body length. */
  public static String describe(HttpExchange ex, long bodyLength) {
    Map<String, String> headers = new TreeMap<>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join("|", v)));
    StringBuilder sb = new StringBuilder();
    sb.append("method=").append(ex.getRequestMethod()).append('\n');
    sb.append("path=").append(ex.getRequestURI().getRawPath()).append('\n');
    sb.append("query=").append(ex.getRequestURI().getRawQuery()).append('\n');
    sb.append("body_length=").append(bodyLength).append('\n');
    headers.forEach((k, v) -> sb.append("h.").append(k).append('=').append(v).append('\n'));
    return sb.toString();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
