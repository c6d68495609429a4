package dev.portalgateway.plugins.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.host.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways on one PostgreSQL queue, as replicas behind a load balancer run: the plugin's
 * built jar in each, a real PostgreSQL server that is crashed and restarted, a receiver that
 * records which attempts arrive and whether two ever overlap for one webhook.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WebhookPostgresGatewayIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static PostgresServer postgres;
  private static int databases;

  @TempDir
  static Path pluginsDir;

  @TempDir
  Path dir;

  private Receiver receiver;
  private TestGateway a;
  private TestGateway b;

  @BeforeAll
  static void start() throws Exception {
    Files.copy(Path.of("target/webhook-retry.jar"), pluginsDir.resolve("webhook-retry.jar"), StandardCopyOption.REPLACE_EXISTING);
    postgres = PostgresServer.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    postgres.close();
  }

  @BeforeEach
  void receiver() throws Exception {
    receiver = new Receiver();
  }

  @AfterEach
  void stop() {
    for (TestGateway g : new TestGateway[] {a, b}) {
      if (g != null) {
        g.close();
      }
    }
    receiver.close();
  }

  private TestGateway gateway(String url, String name, String more) throws Exception {
    return TestGateway.start("portal", "  plugins_dir: \"" + pluginsDir + "\"\n  data_dir: \"" + dir.resolve(name) + "\"\n"
        + "upstreams:\n  hooks: \"" + receiver.url() + "\"\n"
        + "plugins:\n  webhook-retry:\n    store: postgres\n"
        + "    postgres: { url: \"" + url + "\", user: " + PostgresServer.USER + ", connect_timeout: 1s }\n"
        + "    initial_backoff: 50ms\n    max_backoff: 300ms\n    poll_interval: 100ms\n    concurrency: 4\n" + more);
  }

  private static HttpResponse<String> post(TestGateway g, String path, String body) throws Exception {
    return g.client().send(HttpRequest.newBuilder(g.uri(path)).timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode admin(TestGateway g, String method, String path) throws Exception {
    HttpResponse<String> r = g.client().send(HttpRequest.newBuilder(g.adminUri("/plugins/webhook-retry/" + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 60 s for " + what);
      }
      Thread.sleep(50);
    }
  }

  @Test
  void twoReplicasShareTheQueueAndNeverRunOneAttemptTwiceThroughADatabaseCrash() throws Exception {
    String url = postgres.createDatabase("replicas_" + databases++);
    a = gateway(url, "a", "");
    b = gateway(url, "b", "");
    // Slow answers and a first attempt that fails: attempts overlap in time on both replicas.
    receiver.up().answer = d -> new Receiver.Answer(d.attempt() == 1 && d.id().hashCode() % 3 == 0 ? 503 : 200, null, 20);
    Map<String, String> acknowledged = new ConcurrentHashMap<>();
    int refused = 0;
    for (int i = 0; i < 300; i++) {
      if (i == 150) {
        postgres.crash(); // a crash of the database mid-run: accepts answer 503 until it is back
      }
      TestGateway g = i % 2 == 0 ? a : b;
      HttpResponse<String> r = post(g, "/peer/hooks/n/" + i, "{\"n\":" + i + "}");
      if (r.statusCode() == 202) {
        acknowledged.put(JSON.readTree(r.body()).get("id").asText(), "{\"n\":" + i + "}");
      } else {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.body()).contains("webhook-store-unavailable");
        refused++;
        if (refused == 5) {
          postgres.startAgain();
        }
      }
    }
    assertThat(refused).as("accepts while the database was down").isGreaterThanOrEqualTo(5);
    await(() -> acknowledged.keySet().stream().allMatch(id -> !receiver.of(id).isEmpty()), "every acknowledged webhook delivered");
    for (Map.Entry<String, String> e : acknowledged.entrySet()) {
      assertThat(new String(receiver.of(e.getKey()).get(0).body())).isEqualTo(e.getValue());
    }
    Set<String> attempts = new HashSet<>();
    for (Receiver.Delivery d : receiver.deliveries) {
      assertThat(attempts.add(d.id() + "#" + d.attempt())).as("attempt %s of %s sent once", d.attempt(), d.id()).isTrue();
    }
    assertThat(receiver.sameIdAtOnce.get()).as("one webhook in two attempts at once").isZero();
    assertThat(receiver.mostInFlight.get()).as("the route's concurrency of 4 counts both replicas").isLessThanOrEqualTo(4);
    // Both replicas delivered: the queue is shared, not split.
    a.awaitMetrics(m -> m.contains("portal_gateway_webhook_retry_attempts_total{route=\"hooks\",outcome=\"delivered\",}"),
        "deliveries by the first gateway");
    b.awaitMetrics(m -> m.contains("portal_gateway_webhook_retry_attempts_total{route=\"hooks\",outcome=\"delivered\",}"),
        "deliveries by the second gateway");
  }

  @Test
  void operationsWorkFromEitherReplica() throws Exception {
    String url = postgres.createDatabase("operations_" + databases++);
    a = gateway(url, "a", "    max_attempts: 2\n");
    b = gateway(url, "b", "    max_attempts: 2\n");
    receiver.up().answer = d -> Receiver.Answer.of(500);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ids.add(JSON.readTree(post(a, "/peer/hooks/x", "dead " + i).body()).get("id").asText());
    }
    await(() -> {
      try {
        return admin(b, "GET", "webhooks?state=dead").get("webhooks").size() == 4;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "four dead webhooks listed by the other replica");
    assertThat(admin(b, "GET", "webhooks?id=" + ids.get(0)).get("attempts")).hasSize(2);
    receiver.answer = d -> Receiver.Answer.of(200);
    assertThat(admin(b, "POST", "replay?state=dead").get("replayed").asInt()).isEqualTo(4);
    await(() -> ids.stream().allMatch(id -> receiver.of(id).stream().anyMatch(d -> d.attempt() == 3)), "the replays delivered");
    // The service has them; their outcome is recorded just after it answered.
    await(() -> {
      try {
        return admin(a, "GET", "stats").at("/routes/hooks/delivered").asInt() == 4;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "four delivered in the stats of the first replica");
    assertThat(admin(a, "POST", "purge?state=delivered").get("purged").asInt()).isEqualTo(4);
    assertThat(admin(b, "GET", "stats").get("routes").size()).isZero();
  }
}
