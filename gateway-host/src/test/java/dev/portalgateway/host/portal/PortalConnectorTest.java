package dev.portalgateway.host.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The portal connector through real parts: the development relay on a real WebSocket, a
 * development tunnel doing the real E2EE handshake, a real backend behind it, the real gateway.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PortalConnectorTest {
  @TempDir
  Path dir;

  private TestBackend backend;
  private DevRelay relay;
  private DevTunnel tunnel;
  private final CountDownLatch clientHasFirst = new CountDownLatch(1);

  private final java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();

  @BeforeEach
  void start() throws Exception {
    dev.portalgateway.host.ops.JsonLog.redirect(new java.io.PrintStream(log, true, StandardCharsets.UTF_8));
    backend = new TestBackend();
    backend.route("/hello", ex -> TestBackend.respond(ex, 200, "text/plain",
        "hello " + ex.getRequestURI().getRawPath() + " host=" + ex.getRequestHeaders().getFirst("Host")));
    backend.route("/big", ex -> {
      ex.sendResponseHeaders(200, 50L * 1024 * 1024);
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) 'x');
      try (OutputStream out = ex.getResponseBody()) {
        for (int i = 0; i < 800; i++) {
          out.write(chunk);
        }
      }
    });
    backend.route("/events", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      out.write("data: first\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        clientHasFirst.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.write("data: second\n\n".getBytes(StandardCharsets.UTF_8));
      out.close();
    });
    relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
    URI backendUri = URI.create(backend.url());
    tunnel = DevTunnel.start(relay.url(), PortalIdentity.generate(), "demo",
        new InetSocketAddress("127.0.0.1", backendUri.getPort()));
  }

  @AfterEach
  void stop() {
    dev.portalgateway.host.ops.JsonLog.redirect(System.out);
    if (tunnel != null) {
      tunnel.close();
    }
    if (relay != null) {
      relay.close();
    }
    backend.close();
  }

  private TestGateway gateway(String relayUrl) throws Exception {
    return TestGateway.start("jdk", "  data_dir: \"" + dir.resolve("data") + "\"\nrelay:\n  url: \"" + relayUrl + "\"\n"
        + "  reconnect_max: 500ms\n");
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s");
      }
      Thread.sleep(20);
    }
  }

  private static boolean ready(TestGateway g) {
    try {
      return g.client().send(HttpRequest.newBuilder(g.adminUri("/readyz")).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void aLeaseIsReachedByNameAndByIdThroughTheRelayAndStreamsEventByEvent() throws Exception {
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      HttpResponse<String> byName = g.get("/peer/demo/hello?x=1");
      assertThat(byName.statusCode()).isEqualTo(200);
      assertThat(byName.body()).isEqualTo("hello /hello host=demo");
      HttpResponse<String> byId = g.get("/peer/" + tunnel.leaseId() + "/hello");
      assertThat(byId.statusCode()).isEqualTo(200);
      // Keep-alive over the pooled secure connection: many requests, one handshake each at most.
      for (int i = 0; i < 20; i++) {
        assertThat(g.get("/peer/demo/hello").statusCode()).isEqualTo(200);
      }

      HttpResponse<InputStream> events = g.client().send(HttpRequest.newBuilder(g.uri("/peer/demo/events")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
        assertThat(reader.readLine()).isEqualTo("data: first");
        clientHasFirst.countDown(); // the second event exists only once the first went through
        assertThat(reader.readLine()).isEmpty();
        assertThat(reader.readLine()).isEqualTo("data: second");
      }
      String metrics = g.awaitMetrics("portal_gateway_relay_connected 1.0",
          "portal_gateway_requests_total{route=\"demo\",method=\"GET\",status_class=\"2xx\",}",
          "portal_gateway_relay_handshakes_total{lease=\"demo\",outcome=\"ok\",}",
          "portal_gateway_relay_handshake_duration_seconds_count{lease=\"demo\",}",
          "portal_gateway_relay_bytes_total{lease=\"demo\",direction=\"in\",}",
          "portal_gateway_relay_bytes_total{lease=\"demo\",direction=\"out\",}",
          "portal_gateway_relay_pooled_connections{lease=\"demo\",}");
      // Keep-alive through the relay: 22 requests to "demo" needed far fewer handshakes.
      assertThat(handshakes(metrics)).isLessThan(10);
    }
  }

  @Test
  void aBurstOfConcurrentRequestsKeepsItsConnectionsForTheNextBurst() throws Exception {
    int concurrent = 40; // more than the old default of 16 idle connections per lease
    var arrived = new java.util.concurrent.atomic.AtomicReference<CountDownLatch>();
    backend.route("/together", ex -> {
      CountDownLatch wave = arrived.get();
      wave.countDown();
      try {
        // Hold every request until all of the wave are in flight: the gateway needs one
        // connection to the lease per request, 40 at once.
        assertThat(wave.await(20, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      TestBackend.respond(ex, 200, "text/plain", "ok");
    });
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      for (int wave = 1; wave <= 3; wave++) {
        arrived.set(new CountDownLatch(concurrent));
        java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> inFlight = new java.util.ArrayList<>();
        for (int i = 0; i < concurrent; i++) {
          inFlight.add(g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/demo/together")).build(),
              HttpResponse.BodyHandlers.ofString()));
        }
        for (var response : inFlight) {
          assertThat(response.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        // The first wave opened one connection per request; later waves found them all pooled.
        assertThat(handshakes(g.metrics())).as("handshakes after wave %d", wave).isEqualTo(concurrent);
        // A connection returns to the pool just after its response went out: wait for all of them.
        await(() -> pooled(g) == concurrent);
      }
    }
  }

  private static int pooled(TestGateway g) {
    try {
      java.util.regex.Matcher m = java.util.regex.Pattern
          .compile("portal_gateway_relay_pooled_connections\\{lease=\"demo\",} ([0-9.]+)").matcher(g.metrics());
      return m.find() ? (int) Double.parseDouble(m.group(1)) : -1;
    } catch (Exception e) {
      return -1;
    }
  }

  private static double handshakes(String metrics) {
    java.util.regex.Matcher handshakes = java.util.regex.Pattern
        .compile("portal_gateway_relay_handshakes_total\\{lease=\"demo\",outcome=\"ok\",} ([0-9.]+)").matcher(metrics);
    assertThat(handshakes.find()).isTrue();
    return Double.parseDouble(handshakes.group(1));
  }

  @Test
  void aRelayThatDropsMidStreamEndsTheClientsResponseWithAnErrorNotAHang() throws Exception {
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      HttpResponse<InputStream> events = g.client().send(HttpRequest.newBuilder(g.uri("/peer/demo/events")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      InputStream body = events.body();
      byte[] first = new byte["data: first\n\n".length()];
      assertThat(body.readNBytes(first, 0, first.length)).isEqualTo(first.length);
      relay.close(); // the upstream is still holding its second event
      org.assertj.core.api.Assertions.assertThatThrownBy(body::readAllBytes).isInstanceOf(IOException.class);
      await(() -> !ready(g));
    } finally {
      clientHasFirst.countDown();
    }
  }

  @Test
  void aFiftyMegabyteBodyAndTwoHundredConcurrentRequestsCrossTheRelay() throws Exception {
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      HttpResponse<InputStream> big = g.client().send(HttpRequest.newBuilder(g.uri("/peer/demo/big")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(big.statusCode()).isEqualTo(200);
      long total = 0;
      boolean allX = true;
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = big.body()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          total += n;
          for (int i = 0; i < n && allX; i++) {
            allX = buf[i] == 'x';
          }
        }
      }
      assertThat(total).isEqualTo(50L * 1024 * 1024);
      assertThat(allX).isTrue();

      java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> inFlight = new java.util.ArrayList<>();
      for (int i = 0; i < 200; i++) {
        inFlight.add(g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/demo/hello?n=" + i)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (int i = 0; i < 200; i++) {
        HttpResponse<String> r = inFlight.get(i).get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello /hello host=demo");
      }
    }
  }

  @Test
  void aLeaseHolderThatCannotProveTheLeaseKeyIs502AndASecurityEvent() throws Exception {
    URI backendUri = URI.create(backend.url());
    try (DevTunnel impostor = DevTunnel.startImpostor(relay.url(), PortalIdentity.generate(), PortalIdentity.generate(),
            "impostor", new InetSocketAddress("127.0.0.1", backendUri.getPort()));
        TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      HttpResponse<String> r = g.get("/peer/impostor/hello");
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(r.body()).contains("handshake-failed").doesNotContain("hello /hello");
      assertThat(log.toString(StandardCharsets.UTF_8))
          .contains("\"logger\":\"security\"", "\"event\":\"handshake_failed\"", "\"lease\":\"impostor\"");
      assertThat(g.get("/peer/demo/hello").statusCode()).isEqualTo(200); // the honest lease is unaffected
    }
  }

  @Test
  void aLeaseWhoseServiceIsDownIsAGatewayErrorNeverAnAnswer() throws Exception {
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      backend.close(); // the tunnel accepts, but nothing listens behind it any more
      HttpResponse<String> r = g.get("/peer/demo/hello");
      // The development tunnel resets the stream once its backend refuses. When the reset reaches
      // the gateway after the handshake the request broke (502 upstream-failed); when it cuts the
      // handshake's last message, the tunnel went away mid-handshake (503 lease-unavailable).
      assertThat(r.statusCode()).isIn(502, 503);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(r.body()).contains("\"hint\"");
    }
  }

  @Test
  void anUnknownLeaseIs404() throws Exception {
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      HttpResponse<String> r = g.get("/peer/nobody/x");
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.body()).contains("unknown-lease");
      HttpResponse<String> unknownId = g.get("/peer/AAAAAAAAAAAAAAAAAAAAAAAAAA/x");
      assertThat(unknownId.statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aRelayThatIsDownMeans503WithRetryAfterAndNotReadyUntilItComesUp() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    try (TestGateway g = gateway("ws://127.0.0.1:" + port + "/relay")) {
      HttpResponse<String> r = g.get("/peer/demo/hello");
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).isPresent();
      assertThat(r.body()).contains("relay-unavailable");
      assertThat(ready(g)).isFalse();
      assertThat(g.metrics()).contains("portal_gateway_relay_connected 0.0");
      assertThat(log.toString(StandardCharsets.UTF_8))
          .contains("Cannot connect to Portal relay at ws://127.0.0.1:" + port + "/relay", "\"hint\"");
      // Plain upstreams are unaffected: the gateway serves while the relay is down.
    }
  }

  @Test
  void aLeaseWhoseTunnelLeftIsAnOutageAndTheSessionReconnectsAfterTheRelayRestarts() throws Exception {
    try (TestGateway g = gateway(relay.url().toString())) {
      await(() -> ready(g));
      assertThat(g.get("/peer/demo/hello").statusCode()).isEqualTo(200);
      tunnel.close();
      tunnel = null;
      // Seen a moment ago: 503 with Retry-After (a restart, probably), not 404.
      await(() -> {
        try {
          return g.get("/peer/demo/hello").statusCode() == 503;
        } catch (Exception e) {
          return false;
        }
      });
      assertThat(g.get("/peer/demo/hello").body()).contains("lease-unavailable");
      int relayPort = relay.port();
      relay.close();
      await(() -> !ready(g));
      relay = DevRelay.start(new InetSocketAddress("127.0.0.1", relayPort));
      tunnel = DevTunnel.start(relay.url(), PortalIdentity.generate(), "demo",
          new InetSocketAddress("127.0.0.1", URI.create(backend.url()).getPort()));
      await(() -> ready(g));
      await(() -> {
        try {
          return g.get("/peer/demo/hello").statusCode() == 200;
        } catch (Exception e) {
          return false;
        }
      });
    }
  }
}
