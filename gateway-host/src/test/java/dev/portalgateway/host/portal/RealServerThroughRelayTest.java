package dev.portalgateway.host.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.NodeEchoServer;
import dev.portalgateway.host.testing.TestGateway;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request path against a real server at its defaults, through the development relay and
 * tunnel: Node.js's HTTP server, which closes idle keep-alive connections after 5 s. The gateway
 * runs with its default relay settings. The pauses here are the scenario (a service that went
 * quiet longer than its server keeps connections), not timing assertions.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RealServerThroughRelayTest {
  /** Longer than Node's default keepAliveTimeout of 5 s. */
  private static final Duration PAUSE = Duration.ofMillis(6500);

  @TempDir
  Path dir;

  private NodeEchoServer node;
  private DevRelay relay;
  private DevTunnel tunnel;
  private PortalIdentity identity;

  @BeforeEach
  void start() throws Exception {
    node = NodeEchoServer.start();
    relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
    identity = PortalIdentity.generate();
    tunnel = startTunnel();
  }

  private DevTunnel startTunnel() throws Exception {
    return DevTunnel.start(relay.url(), identity, "echo", new InetSocketAddress("127.0.0.1", node.port()));
  }

  @AfterEach
  void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
    relay.close();
    node.close();
  }

  private TestGateway gateway() throws Exception {
    return gateway("");
  }

  private TestGateway gateway(String relaySettings) throws Exception {
    return TestGateway.start("jdk", "  data_dir: \"" + dir.resolve("data") + "\"\nrelay:\n  url: \"" + relay.url() + "\"\n"
        + relaySettings);
  }

  @Test
  void callsAfterPausesLongerThanTheServersKeepAliveAllSucceed() throws Exception {
    callAfterPauses("");
  }

  @Test
  void callsAfterPausesSucceedAlsoWhenTheGatewayWouldKeepIdleConnectionsLongerThanTheServer() throws Exception {
    // The idle timeout does not save these: the gateway must see that the tunnel closed them.
    callAfterPauses("  idle_timeout: 60s\n");
  }

  private void callAfterPauses(String relaySettings) throws Exception {
    try (TestGateway g = gateway(relaySettings)) {
      await(() -> ready(g));
      // Ten clients at once, so the pool holds ten connections; then the service goes quiet past
      // its keep-alive, Node closes all ten, and the next calls must not be sent on them.
      for (int round = 1; round <= 3; round++) {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int client = 0; client < 10; client++) {
          calls.add(g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/echo/call-" + client))
              .POST(HttpRequest.BodyPublishers.ofString("{\"round\":" + round + "}")).build(),
              HttpResponse.BodyHandlers.ofString()));
        }
        for (int client = 0; client < 10; client++) {
          HttpResponse<String> r = calls.get(client).get(30, TimeUnit.SECONDS);
          assertThat(r.statusCode()).as("round %d, client %d: %s", round, client, r.body()).isEqualTo(200);
          assertThat(r.body()).isEqualTo("POST /call-" + client + " {\"round\":" + round + "}");
        }
        Thread.sleep(PAUSE.toMillis());
      }
    }
  }

  @Test
  void aTunnelThatStopsOnlyWhenItsPeersLetGoIsLetGoAndItsSuccessorServes() throws Exception {
    try (TestGateway g = gateway()) {
      await(() -> ready(g));
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        calls.add(g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/echo/x")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (var call : calls) {
        assertThat(call.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      await(() -> tunnel.activeConnections() > 0); // the gateway pools its connections to the tunnel

      // Like Portal's tunnel on SIGTERM: it waits for its peers to close their connections.
      assertThat(tunnel.drainAndClose(Duration.ofSeconds(60)))
          .as("the gateway closed the connections it held to the stopping tunnel").isTrue();
      tunnel = startTunnel();
      await(() -> status(g, "/peer/echo/again") == 200);
      assertThat(g.get("/peer/echo/again").body()).isEqualTo("GET /again ");
    }
  }

  @Test
  void aStreamsHeadReachesTheClientBeforeItsFirstEventExists() throws Exception {
    try (TestGateway g = gateway()) {
      await(() -> ready(g));
      // The server sends the first event only once the client holds the head: if the gateway held
      // the head back until the first body byte, neither would ever come.
      HttpResponse<InputStream> events = g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/echo/events")).build(),
          HttpResponse.BodyHandlers.ofInputStream()).get(60, TimeUnit.SECONDS);
      assertThat(events.statusCode()).isEqualTo(200);
      assertThat(events.headers().firstValue("Content-Type")).hasValue("text/event-stream");
      node.go();
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
        assertThat(reader.readLine()).isEqualTo("data: first");
        assertThat(reader.readLine()).isEmpty();
        assertThat(reader.readLine()).isEqualTo("data: second");
      }
    }
  }

  @Test
  void aStoppedTunnelIsAnOutageWhileANameNeverSeenIsUnknownAlsoAfterAGatewayRestart() throws Exception {
    try (TestGateway g = gateway()) {
      await(() -> ready(g));
      assertThat(g.get("/peer/echo/x").statusCode()).isEqualTo(200);
      tunnel.close();
      tunnel = null;
      await(() -> status(g, "/peer/echo/x") == 503);
      assertOutage(g.get("/peer/echo/x"));
      assertThat(g.get("/peer/never-seen/x").statusCode()).isEqualTo(404);
    }
    // A restart (a rolling update) still knows the lease was there: MCP clients keep their sessions.
    try (TestGateway g = gateway()) {
      await(() -> ready(g));
      assertOutage(g.get("/peer/echo/x"));
      assertThat(g.get("/peer/never-seen/x").statusCode()).isEqualTo(404);
      tunnel = startTunnel();
      await(() -> status(g, "/peer/echo/x") == 200);
      assertThat(g.get("/peer/echo/x").body()).isEqualTo("GET /x ");
    }
  }

  @Test
  void aTunnelRestartedUnderANewIdentityIsReachedByNameWithoutAFailedRequest() throws Exception {
    try (TestGateway g = gateway()) {
      await(() -> ready(g));
      assertThat(g.get("/peer/echo/before").statusCode()).isEqualTo(200); // the name's lease ID is cached now
      tunnel.close();
      identity = PortalIdentity.generate();
      tunnel = startTunnel(); // registered when start returns
      HttpResponse<String> after = g.get("/peer/echo/after");
      assertThat(after.statusCode()).as(after.body()).isEqualTo(200);
      assertThat(after.body()).isEqualTo("GET /after ");
    }
  }

  @Test
  void whenTheRelayRestartsTheGatewayAndTheTunnelReconnectByThemselvesAndNoRequestHangs() throws Exception {
    try (TestGateway g = gateway()) {
      await(() -> ready(g));
      assertThat(g.get("/peer/echo/x").statusCode()).isEqualTo(200);
      int port = relay.port();
      relay.close();
      await(() -> !ready(g));
      // While the relay is away, requests are answered at once (TestGateway's client gives each
      // 20 s), not held until it is back.
      HttpResponse<String> during = g.get("/peer/echo/x");
      assertThat(during.statusCode()).isEqualTo(503);
      assertThat(during.headers().firstValue("Retry-After")).isPresent();

      relay = DevRelay.start(new InetSocketAddress("127.0.0.1", port));
      // Nobody restarts the tunnel or the gateway: both reconnect and the lease is registered again.
      await(() -> status(g, "/peer/echo/x") == 200);
      assertThat(g.get("/peer/echo/back").body()).isEqualTo("GET /back ");
    }
  }

  private static void assertOutage(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    assertThat(r.body()).contains("\"type\":\"urn:portal-gateway:problem:lease-unavailable\"", "last seen");
  }

  private static int status(TestGateway g, String path) {
    try {
      return g.get(path).statusCode();
    } catch (Exception e) {
      return -1;
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

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s");
      }
      Thread.sleep(20);
    }
  }
}
