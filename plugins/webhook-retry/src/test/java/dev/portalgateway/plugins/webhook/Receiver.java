package dev.portalgateway.plugins.webhook;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A webhook receiver on a fixed loopback port that can be down and come back: the JDK's HTTP
 * server, recording every request it gets and answering as the test says.
 */
final class Receiver implements AutoCloseable {
  /** One request as received. */
  record Delivery(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    String id() {
      return header("X-Portal-Webhook-Id");
    }

    int attempt() {
      return Integer.parseInt(header("X-Portal-Webhook-Attempt"));
    }
  }

  /** An answer: a status and optional Retry-After, after an optional delay. */
  record Answer(int status, String retryAfter, long delayMillis) {
    static Answer of(int status) {
      return new Answer(status, null, 0);
    }
  }

  final int port;
  final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger mostInFlight = new AtomicInteger();
  final Map<String, AtomicInteger> inFlightById = new ConcurrentHashMap<>();
  final AtomicInteger sameIdAtOnce = new AtomicInteger();
  volatile Function<Delivery, Answer> answer = d -> Answer.of(200);
  private HttpServer server;

  Receiver() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  synchronized Receiver up() throws IOException {
    if (server == null) {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 100);
      server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      server.createContext("/", ex -> {
        try (ex) {
          byte[] body = ex.getRequestBody().readAllBytes();
          Delivery d = new Delivery(ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
              ex.getRequestURI().getRawQuery(), Map.copyOf(ex.getRequestHeaders()), body);
          int now = inFlight.incrementAndGet();
          mostInFlight.accumulateAndGet(now, Math::max);
          AtomicInteger same = d.id() == null ? null : inFlightById.computeIfAbsent(d.id(), k -> new AtomicInteger());
          if (same != null && same.incrementAndGet() > 1) {
            sameIdAtOnce.incrementAndGet();
          }
          try {
            deliveries.add(d);
            Answer a = answer.apply(d);
            if (a.delayMillis() > 0) {
              try {
                Thread.sleep(a.delayMillis());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            if (a.retryAfter() != null) {
              ex.getResponseHeaders().set("Retry-After", a.retryAfter());
            }
            byte[] out = ("answer " + a.status()).getBytes();
            ex.sendResponseHeaders(a.status(), out.length);
            ex.getResponseBody().write(out);
          } finally {
            inFlight.decrementAndGet();
            if (same != null) {
              same.decrementAndGet();
            }
          }
        }
      });
      server.start();
    }
    return this;
  }

  synchronized void down() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
  }

  List<Delivery> of(String id) {
    return deliveries.stream().filter(d -> id.equals(d.id())).toList();
  }

  @Override
  public void close() {
    down();
  }
}
