package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.KeepAliveUpstream;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import dev.portalgateway.host.ops.JsonLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A changed file is swapped in without dropping in-flight requests; a broken one is refused. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConfigReloadTest {
  @TempDir
  Path dir;

  private TestBackend one;
  private TestBackend two;
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  @BeforeEach
  void start() throws Exception {
    one = new TestBackend();
    one.route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "one"));
    two = new TestBackend();
    two.route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "two"));
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void stop() {
    JsonLog.redirect(System.out);
    one.close();
    two.close();
  }

  private void rewrite(String yaml) throws Exception {
    // Write-then-rename, as editors and config management tools do.
    Path tmp = dir.resolve("gateway.yaml.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, dir.resolve("gateway.yaml"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 20 s");
      }
      Thread.sleep(25);
    }
  }

  @Test
  void aChangedFileIsSwappedInWithoutCuttingAStreamThatIsInFlight() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    one.route("/stream", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      out.write("data: before\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.write("data: after\n\n".getBytes(StandardCharsets.UTF_8));
      out.close();
    });
    String server = TestGateway.serverSection("jdk", "  config_reload_interval: 50ms\n");
    try (TestGateway g = TestGateway.start("jdk", "  config_reload_interval: 50ms\nupstreams:\n  svc: \"" + one.url() + "\"\n", dir)) {
      assertThat(g.get("/peer/svc/").body()).isEqualTo("one");
      HttpResponse<InputStream> stream = g.client().send(HttpRequest.newBuilder(g.uri("/peer/svc/stream")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      byte[] first = new byte[14];
      assertThat(stream.body().readNBytes(first, 0, 14)).isEqualTo(14);

      rewrite(server + "upstreams:\n  svc: \"" + two.url() + "\"\n  extra: \"" + one.url() + "\"\n");
      await(() -> get(g, "/peer/svc/").equals("two"));
      assertThat(g.get("/peer/extra/").body()).isEqualTo("one");

      release.countDown();
      String rest = new String(stream.body().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(rest).isEqualTo("data: after\n\n");
      assertThat(g.metrics()).contains("portal_gateway_config_reloads_total{outcome=\"applied\",} 1.0");
    }
  }

  @Test
  void aReplacedGenerationKeptOpenByAStreamClosesItsIdleUpstreamConnections() throws Exception {
    String server = TestGateway.serverSection("jdk", "  config_reload_interval: 50ms\n");
    try (KeepAliveUpstream upstream = new KeepAliveUpstream();
        TestGateway g = TestGateway.start("jdk", "  config_reload_interval: 50ms\nupstreams:\n  svc: { url: "
            + "\"http://127.0.0.1:" + upstream.port() + "\", idle_timeout: 10m }\n", dir)) {
      // Connection 0 carries a stream that holds this generation open across the reload;
      // connection 1 served a short request and is idle in the pool.
      HttpResponse<InputStream> stream = g.client().send(HttpRequest.newBuilder(g.uri("/peer/svc/stream")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(new String(stream.body().readNBytes(13), StandardCharsets.UTF_8)).isEqualTo("data: first\n\n");
      assertThat(g.get("/peer/svc/x").body()).isEqualTo("ok");
      assertThat(upstream.connections()).isEqualTo(2);

      rewrite(server + "upstreams:\n  svc: { url: \"http://127.0.0.1:" + upstream.port() + "\", idle_timeout: 9m }\n");
      await(() -> metrics(g).contains("portal_gateway_config_reloads_total{outcome=\"applied\",} 1.0"));
      // Nothing will use the old generation's idle connection again, and its timeout is 10 minutes.
      assertThat(upstream.awaitClosed(1, 15)).as("the replaced generation's idle connection was closed").isTrue();
      assertThat(upstream.isClosed(0)).as("the stream still runs on its own connection").isFalse();

      upstream.endStreams();
      assertThat(new String(stream.body().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
      assertThat(upstream.awaitClosed(0, 15)).as("closed when its request ended").isTrue();
    }
  }

  @Test
  void anInvalidChangeIsRefusedLoggedAndTheCurrentConfigurationKept() throws Exception {
    String server = TestGateway.serverSection("robaho", "  config_reload_interval: 50ms\n");
    try (TestGateway g = TestGateway.start("robaho", "  config_reload_interval: 50ms\nupstreams:\n  svc: \"" + one.url() + "\"\n", dir)) {
      rewrite(server + "upstreams:\n  svc: { url: \"" + two.url() + "\", respons_timeout: 5s }\n");
      await(() -> metrics(g).contains("portal_gateway_config_reloads_total{outcome=\"rejected\",} 1.0"));
      assertThat(g.get("/peer/svc/").body()).isEqualTo("one");
      assertThat(log.toString(StandardCharsets.UTF_8))
          .contains("the changed configuration is invalid", "upstreams.svc.respons_timeout");
    }
  }

  @Test
  void aChangeWithADuplicateKeyIsRefusedAndTheCurrentConfigurationKept() throws Exception {
    String server = TestGateway.serverSection("portal", "  config_reload_interval: 50ms\n");
    try (TestGateway g = TestGateway.start("portal", "  config_reload_interval: 50ms\nupstreams:\n  svc: \"" + one.url() + "\"\n", dir)) {
      rewrite(server + "upstreams:\n  svc: \"" + two.url() + "\"\n  svc: \"" + one.url() + "\"\n");
      await(() -> metrics(g).contains("portal_gateway_config_reloads_total{outcome=\"rejected\",} 1.0"));
      assertThat(g.get("/peer/svc/").body()).isEqualTo("one");
      assertThat(log.toString(StandardCharsets.UTF_8)).contains("the key 'svc' appears twice", "at line ");
    }
  }

  private static String get(TestGateway g, String path) {
    try {
      return g.get(path).body();
    } catch (Exception e) {
      return "";
    }
  }

  private static String metrics(TestGateway g) {
    try {
      return g.metrics();
    } catch (Exception e) {
      return "";
    }
  }
}
