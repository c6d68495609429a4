package dev.portalgateway.plugins.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.host.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin as the gateway runs it (its built jar from a plugins directory, its queue in a real
 * SQLite file), in front of a real HTTP receiver that goes down, comes back, fails and stalls.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebhookRetryGatewayIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Short backoff, so that retries happen within a test; the schedule's shape is the same. */
  private static final String FAST = "    initial_backoff: 50ms\n    max_backoff: 200ms\n    poll_interval: 100ms\n";

  @TempDir
  static Path pluginsDir;

  @TempDir
  Path dir;

  private Receiver receiver;
  private TestGateway gateway;

  @BeforeAll
  static void installBuiltJar() throws Exception {
    Path jar = Path.of("target/webhook-retry.jar");
    assertThat(jar).as("the plugin jar, built in the package phase").exists();
    Files.copy(jar, pluginsDir.resolve("webhook-retry.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  @BeforeEach
  void receiver() throws Exception {
    receiver = new Receiver();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    receiver.close();
  }

  private String config(String routeSettings) {
    return "  plugins_dir: \"" + pluginsDir + "\"\n  data_dir: \"" + dir.resolve("data") + "\"\n"
        + "  config_reload_interval: 100ms\n"
        + "upstreams:\n  hooks: \"" + receiver.url() + "\"\n  plain: \"" + receiver.url() + "\"\n"
        + "plugins:\n  webhook-retry:\n    enabled: false\n" + FAST
        + "    routes:\n      hooks:\n" + routeSettings.indent(8).replaceAll("\\s+$", "") + "\n";
  }

  private void start(String routeSettings) throws Exception {
    gateway = TestGateway.start("portal", config(routeSettings), dir);
  }

  private HttpResponse<String> post(String pathAndQuery, byte[] body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri(pathAndQuery)).timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return gateway.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String accepted(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    JsonNode json = JSON.readTree(response.body());
    assertThat(json.get("status").asText()).isIn("queued", "duplicate");
    assertThat(response.headers().firstValue("X-Portal-Webhook-Id")).contains(json.get("id").asText());
    return json.get("id").asText();
  }

  private HttpResponse<String> admin(String method, String pathAndQuery) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(gateway.adminUri("/plugins/webhook-retry/" + pathAndQuery))
        .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody());
    return gateway.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode adminJson(String method, String pathAndQuery) throws Exception {
    HttpResponse<String> r = admin(method, pathAndQuery);
    assertThat(r.statusCode()).as(method + " " + pathAndQuery + ": " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private JsonNode show(String id) throws Exception {
    return adminJson("GET", "webhooks?id=" + id);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 30 s for " + what);
      }
      Thread.sleep(20);
    }
  }

  private void awaitState(String id, String state) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String seen;
    while (!(seen = show(id).get("state").asText()).equals(state)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 30 s for webhook " + id + " to be " + state + "; it is " + seen + ": " + show(id));
      }
      Thread.sleep(20);
    }
  }

  @Test
  void acceptsWhileTheServiceIsDownAndDeliversEachByteForByteWhenItIsBack() throws Exception {
    start("mode: store-and-forward");
    Random random = new Random(7);
    List<String> ids = new ArrayList<>();
    List<byte[]> bodies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      byte[] body = new byte[1 + random.nextInt(4000)];
      random.nextBytes(body); // any bytes, NULs and invalid UTF-8 included
      bodies.add(body);
      HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri("/peer/hooks/github/events?n=" + i + "&q=a%20b"))
          .timeout(Duration.ofSeconds(20)).method(i % 4 == 0 ? "PUT" : "POST", HttpRequest.BodyPublishers.ofByteArray(body))
          .headers("Content-Type", "application/octet-stream", "X-GitHub-Event", "push-" + i);
      ids.add(accepted(gateway.client().send(b.build(), HttpResponse.BodyHandlers.ofString())));
    }
    assertThat(new HashSet<>(ids)).hasSize(20);
    // Nothing answers on the receiver's port: the attempts fail and back off.
    await(() -> {
      try {
        return show(ids.get(0)).get("attempts").size() >= 2;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "failed attempts while the service is down");
    JsonNode failing = show(ids.get(0));
    assertThat(failing.get("state").asText()).isIn("pending", "in_flight");
    assertThat(failing.get("attempts").get(0).get("outcome").asText()).isEqualTo("retry");

    receiver.up();
    await(() -> ids.stream().allMatch(id -> !receiver.of(id).isEmpty()), "all 20 delivered");
    for (int i = 0; i < 20; i++) {
      List<Receiver.Delivery> got = receiver.of(ids.get(i));
      Receiver.Delivery d = got.get(got.size() - 1);
      assertThat(d.method()).isEqualTo(i % 4 == 0 ? "PUT" : "POST");
      assertThat(d.path()).isEqualTo("/github/events");
      assertThat(d.query()).isEqualTo("n=" + i + "&q=a%20b");
      assertThat(d.body()).isEqualTo(bodies.get(i));
      assertThat(d.header("X-GitHub-Event")).isEqualTo("push-" + i);
      assertThat(d.header("Content-Type")).isEqualTo("application/octet-stream");
      assertThat(d.header("webhook-id")).isEqualTo(ids.get(i));
      assertThat(d.attempt()).isGreaterThanOrEqualTo(2);
      awaitState(ids.get(i), "delivered");
    }
    gateway.awaitMetrics("portal_gateway_webhook_retry_received_total{route=\"hooks\",result=\"queued\",} 20.0",
        "portal_gateway_webhook_retry_attempts_total{route=\"hooks\",outcome=\"delivered\",} 20.0",
        "portal_gateway_webhook_retry_webhooks{route=\"hooks\",state=\"delivered\",} 20.0",
        "portal_gateway_webhook_retry_webhooks{route=\"hooks\",state=\"pending\",} 0.0");
    JsonNode stats = adminJson("GET", "stats");
    assertThat(stats.at("/routes/hooks/delivered").asInt()).isEqualTo(20);
  }

  @Test
  void honoursRetryAfterAndKeepsOneIdAcrossAttempts() throws Exception {
    receiver.up().answer = d -> d.attempt() <= 2 ? new Receiver.Answer(503, "1", 0) : Receiver.Answer.of(200);
    start("mode: store-and-forward");
    String id = accepted(post("/peer/hooks/x", "{\"a\":1}".getBytes(), "Content-Type", "application/json"));
    awaitState(id, "delivered");
    List<Receiver.Delivery> got = receiver.of(id);
    assertThat(got).extracting(Receiver.Delivery::attempt).containsExactly(1, 2, 3);
    assertThat(got).extracting(d -> d.header("webhook-id")).containsOnly(id);
    JsonNode attempts = show(id).get("attempts");
    assertThat(attempts).extracting(a -> a.get("outcome").asText()).containsExactly("retry", "retry", "delivered");
    assertThat(attempts).extracting(a -> a.get("status").asInt()).containsExactly(503, 503, 200);
    // Retry-After: 1 is a floor under the backoff (at most 200 ms here): no attempt came sooner.
    for (int i = 1; i < 3; i++) {
      Instant before = Instant.parse(attempts.get(i - 1).get("started_at").asText())
          .plusMillis(attempts.get(i - 1).get("duration_ms").asLong());
      Instant next = Instant.parse(attempts.get(i).get("started_at").asText());
      assertThat(Duration.between(before, next)).isGreaterThanOrEqualTo(Duration.ofMillis(999));
    }
  }

  @Test
  void goneStopsDeliveryToTheRouteUntilAnOperatorResumesIt() throws Exception {
    receiver.up().answer = d -> Receiver.Answer.of(410);
    start("mode: store-and-forward");
    String first = accepted(post("/peer/hooks/a", "1".getBytes()));
    gateway.awaitMetrics("portal_gateway_webhook_retry_route_paused{route=\"hooks\",} 1.0");
    String second = accepted(post("/peer/hooks/b", "2".getBytes()));
    String third = accepted(post("/peer/hooks/c", "3".getBytes()));
    assertThat(adminJson("GET", "stats").at("/routes/hooks/paused").asText()).contains("410 Gone");
    assertThat(receiver.deliveries).hasSize(1); // paused: no more attempts at the gone endpoint
    assertThat(show(second).get("state").asText()).isEqualTo("pending");

    receiver.answer = d -> Receiver.Answer.of(204);
    assertThat(adminJson("POST", "resume?route=hooks").get("resumed").asBoolean()).isTrue();
    for (String id : List.of(first, second, third)) {
      awaitState(id, "delivered");
    }
    assertThat(show(first).get("attempts")).extracting(a -> a.get("outcome").asText()).containsExactly("paused", "delivered");
    gateway.awaitMetrics("portal_gateway_webhook_retry_route_paused{route=\"hooks\",} 0.0");
  }

  @Test
  void deadLettersAfterMaxAttemptsThenReplaysAndPurges() throws Exception {
    receiver.up().answer = d -> Receiver.Answer.of(500);
    start("max_attempts: 3");
    String id = accepted(post("/peer/hooks/x", "payload".getBytes()));
    awaitState(id, "dead");
    JsonNode dead = show(id);
    assertThat(dead.get("attempts")).hasSize(3);
    assertThat(dead.get("last_error").asText()).contains("HTTP 500").contains("gave up after 3 attempts");
    JsonNode listed = adminJson("GET", "webhooks?state=dead");
    assertThat(listed.get("webhooks")).extracting(w -> w.get("id").asText()).containsExactly(id);
    gateway.awaitMetrics("portal_gateway_webhook_retry_webhooks{route=\"hooks\",state=\"dead\",} 1.0");

    // A replay with nothing named is refused rather than replaying everything.
    HttpResponse<String> vague = admin("POST", "replay");
    assertThat(vague.statusCode()).isEqualTo(400);
    assertThat(vague.body()).contains("say which webhooks");
    assertThat(admin("GET", "replay?state=dead").statusCode()).isEqualTo(405);

    receiver.answer = d -> Receiver.Answer.of(200);
    assertThat(adminJson("POST", "replay?state=dead&route=hooks").get("replayed").asInt()).isEqualTo(1);
    awaitState(id, "delivered");
    List<Receiver.Delivery> got = receiver.of(id);
    assertThat(got).extracting(Receiver.Delivery::attempt).containsExactly(1, 2, 3, 4);
    assertThat(got.get(3).body()).isEqualTo("payload".getBytes());

    assertThat(adminJson("POST", "purge?id=" + id).get("purged").asInt()).isEqualTo(1);
    assertThat(admin("GET", "webhooks?id=" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void aFinalClientErrorIsDeadLetteredAtOnceAndListedStatusesAreRetried() throws Exception {
    receiver.up().answer = d -> d.path().equals("/bad") ? Receiver.Answer.of(400)
        : d.attempt() == 1 ? Receiver.Answer.of(409) : Receiver.Answer.of(200);
    start("max_attempts: 5");
    String bad = accepted(post("/peer/hooks/bad", "x".getBytes()));
    String conflict = accepted(post("/peer/hooks/conflict", "y".getBytes()));
    awaitState(bad, "dead");
    awaitState(conflict, "delivered");
    assertThat(receiver.of(bad)).hasSize(1);
    assertThat(show(bad).get("last_error").asText()).contains("400").contains("final");
    assertThat(receiver.of(conflict)).hasSize(2);
  }

  @Test
  void repeatsOfASendersDeliveryIdAreStoredOnceButAReplayIsNeverSwallowed() throws Exception {
    receiver.up();
    start("dedupe_header: X-GitHub-Delivery");
    String first = accepted(post("/peer/hooks/x", "one".getBytes(), "X-GitHub-Delivery", "gh-1"));
    HttpResponse<String> again = post("/peer/hooks/x", "one".getBytes(), "X-GitHub-Delivery", "gh-1");
    assertThat(accepted(again)).isEqualTo(first);
    assertThat(JSON.readTree(again.body()).get("status").asText()).isEqualTo("duplicate");
    String other = accepted(post("/peer/hooks/x", "two".getBytes(), "X-GitHub-Delivery", "gh-2"));
    assertThat(other).isNotEqualTo(first);
    awaitState(first, "delivered");
    awaitState(other, "delivered");
    assertThat(receiver.of(first)).hasSize(1);

    assertThat(adminJson("POST", "replay?id=" + first).get("replayed").asInt()).isEqualTo(1);
    await(() -> receiver.of(first).size() == 2, "the replay delivered");
    assertThat(receiver.of(first).get(1).attempt()).isEqualTo(2);
    gateway.awaitMetrics("portal_gateway_webhook_retry_received_total{route=\"hooks\",result=\"duplicate\",} 1.0");
  }

  @Test
  void signaturesAreCheckedBeforeAnythingIsStored() throws Exception {
    receiver.up();
    start("signature: { scheme: github, secret: \"It's a Secret to Everybody\" }");
    byte[] body = "Hello, World!".getBytes(StandardCharsets.UTF_8);
    // GitHub's documented example: this secret and body give this signature.
    String valid = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    HttpResponse<String> forged = post("/peer/hooks/x", body, "X-Hub-Signature-256", "sha256=" + "0".repeat(64));
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.body()).contains("signature does not match");
    assertThat(forged.body()).doesNotContain("Secret to Everybody");
    assertThat(post("/peer/hooks/x", body).statusCode()).isEqualTo(401);
    assertThat(adminJson("GET", "stats").get("routes").size()).isZero(); // nothing queued
    String id = accepted(post("/peer/hooks/x", body, "X-Hub-Signature-256", valid));
    awaitState(id, "delivered");
    JsonNode shown = show(id);
    assertThat(shown.at("/headers/X-Hub-Signature-256").asText()).isEqualTo("[redacted]");
    gateway.awaitMetrics("portal_gateway_webhook_retry_received_total{route=\"hooks\",result=\"bad_signature\",} 2.0");
  }

  @Test
  void standardWebhooksSignaturesWithKeyRotation() throws Exception {
    receiver.up();
    byte[] key = "a-standard-webhooks-key-32-bytes".getBytes(StandardCharsets.UTF_8);
    String secret = "whsec_" + Base64.getEncoder().encodeToString(key);
    start("signature: { scheme: standard, secret: \"" + secret + "\" }");
    byte[] body = "{\"type\":\"invoice.paid\"}".getBytes(StandardCharsets.UTF_8);
    String ts = Long.toString(Instant.now().getEpochSecond());
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    mac.update(("msg_1." + ts + ".").getBytes(StandardCharsets.UTF_8));
    String sig = Base64.getEncoder().encodeToString(mac.doFinal(body));
    String id = accepted(post("/peer/hooks/x", body, "webhook-id", "msg_1", "webhook-timestamp", ts,
        "webhook-signature", "v1,b2xkLWtleS1zaWduYXR1cmU= v1," + sig));
    awaitState(id, "delivered");
    // The sender's own webhook-id goes on untouched: it is part of what it signed.
    assertThat(receiver.of(id).get(0).header("webhook-id")).isEqualTo("msg_1");
    String stale = Long.toString(Instant.now().minusSeconds(3600).getEpochSecond());
    HttpResponse<String> replayed = post("/peer/hooks/x", body, "webhook-id", "msg_1", "webhook-timestamp", stale,
        "webhook-signature", "v1," + sig);
    assertThat(replayed.statusCode()).isEqualTo(401);
    assertThat(replayed.body()).contains("timestamp");
  }

  @Test
  void stripeSignaturesNeedAFreshTimestamp() throws Exception {
    receiver.up();
    String secret = "whsec_stripe_test_secret";
    start("signature: { scheme: stripe, secret: \"" + secret + "\", tolerance: 2m }");
    byte[] body = "{\"id\":\"evt_1\"}".getBytes(StandardCharsets.UTF_8);
    long now = Instant.now().getEpochSecond();
    String id = accepted(post("/peer/hooks/stripe", body, "Stripe-Signature",
        "t=" + now + ",v1=" + stripe(secret, now, body) + ",v0=ignored"));
    awaitState(id, "delivered");
    long old = now - 600;
    HttpResponse<String> stale = post("/peer/hooks/stripe", body, "Stripe-Signature", "t=" + old + ",v1=" + stripe(secret, old, body));
    assertThat(stale.statusCode()).isEqualTo(401);
    assertThat(stale.body()).contains("more than 120 s from now");
    HttpResponse<String> wrong = post("/peer/hooks/stripe", body, "Stripe-Signature", "t=" + now + ",v1=" + stripe("other", now, body));
    assertThat(wrong.statusCode()).isEqualTo(401);
  }

  private static String stripe(String secret, long timestamp, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(mac.doFinal(body));
  }

  @Test
  void anOrderedRouteDeliversOneAtATimeInArrivalOrder() throws Exception {
    // The first webhook fails twice: the others wait behind it instead of overtaking it.
    receiver.up().answer = d -> d.path().equals("/0") && d.attempt() <= 2 ? Receiver.Answer.of(503) : Receiver.Answer.of(200);
    start("ordered: true\nconcurrency: 8");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(accepted(post("/peer/hooks/" + i, ("n" + i).getBytes())));
    }
    for (String id : ids) {
      awaitState(id, "delivered");
    }
    List<String> order = receiver.deliveries.stream().map(Receiver.Delivery::path).toList();
    assertThat(order).containsExactly("/0", "/0", "/0", "/1", "/2", "/3", "/4", "/5");
    assertThat(receiver.mostInFlight.get()).isEqualTo(1);
  }

  @Test
  void oversizedBodiesAreRefusedAndOtherMethodsPassThrough() throws Exception {
    receiver.up();
    start("max_body: 1KiB");
    HttpResponse<String> big = post("/peer/hooks/x", new byte[2048]);
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(big.body()).contains("larger than 1024 bytes");
    accepted(post("/peer/hooks/x", new byte[1024]));
    // A GET (a sender's verification challenge) is answered by the service itself, now.
    HttpResponse<String> challenge = gateway.get("/peer/hooks/verify?challenge=abc");
    assertThat(challenge.statusCode()).isEqualTo(200);
    assertThat(challenge.body()).isEqualTo("answer 200");
    // Routes without the plugin are plain proxying.
    assertThat(post("/peer/plain/x", "z".getBytes()).statusCode()).isEqualTo(200);
  }

  @Test
  void tryThenQueuePassesSuccessThroughAndQueuesWhenTheServiceIsAwayOrSlow() throws Exception {
    receiver.up().answer = d -> d.path().equals("/slow") ? new Receiver.Answer(200, null, 1500) : Receiver.Answer.of(201);
    start("mode: try-then-queue\ntry_timeout: 300ms");
    HttpResponse<String> direct = post("/peer/hooks/now", "a".getBytes());
    assertThat(direct.statusCode()).isEqualTo(201);
    assertThat(direct.body()).isEqualTo("answer 201");
    String directId = direct.headers().firstValue("X-Portal-Webhook-Id").orElseThrow();
    assertThat(receiver.of(directId)).hasSize(1);
    assertThat(admin("GET", "webhooks?id=" + directId).statusCode()).isEqualTo(404); // never stored

    String slow = accepted(post("/peer/hooks/slow", "b".getBytes()));
    JsonNode queued = show(slow);
    assertThat(queued.get("possibly_delivered").asBoolean()).isTrue();
    assertThat(queued.get("attempts").get(0).get("outcome").asText()).isEqualTo("queued-possibly-delivered");
    awaitState(slow, "delivered");
    assertThat(receiver.of(slow)).extracting(Receiver.Delivery::attempt).contains(1, 2);

    receiver.down();
    String away = accepted(post("/peer/hooks/later", "c".getBytes()));
    assertThat(show(away).get("possibly_delivered").asBoolean()).isFalse();
    receiver.up();
    awaitState(away, "delivered");
    assertThat(receiver.of(away).get(0).attempt()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aReloadDuringDeliveryNeverSendsAnAttemptTwice() throws Exception {
    receiver.up().answer = d -> new Receiver.Answer(d.attempt() == 1 ? 503 : 200, null, 150);
    start("concurrency: 2");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(accepted(post("/peer/hooks/x", ("n" + i).getBytes())));
    }
    Path file = dir.resolve("gateway.yaml");
    for (int reload = 1; reload <= 3; reload++) {
      String yaml = Files.readString(file);
      String changed = yaml.contains("max_attempts: ")
          ? yaml.replaceAll("max_attempts: \\d+", "max_attempts: " + (10 + reload))
          : yaml.replace("concurrency: 2\n", "concurrency: 2\n        max_attempts: " + (10 + reload) + "\n");
      Files.writeString(file, changed);
      gateway.awaitMetrics("portal_gateway_config_reloads_total{outcome=\"applied\",} " + reload + ".0");
    }
    for (String id : ids) {
      awaitState(id, "delivered");
    }
    Set<String> attempts = new HashSet<>();
    for (Receiver.Delivery d : receiver.deliveries) {
      assertThat(attempts.add(d.id() + "#" + d.attempt())).as("attempt %s of %s sent once", d.attempt(), d.id()).isTrue();
    }
    assertThat(receiver.sameIdAtOnce.get()).as("one webhook in two attempts at once").isZero();
    assertThat(receiver.mostInFlight.get()).as("attempts at once on a route with concurrency 2").isLessThanOrEqualTo(2);
  }

  @Test
  void theQueueOutlivesARestartAndBelongsToOneGateway() throws Exception {
    start("mode: store-and-forward");
    String id = accepted(post("/peer/hooks/x", "kept".getBytes()));
    assertThatThrownBy(() -> TestGateway.start("portal", config("mode: store-and-forward"), Files.createTempDirectory(dir, "second")))
        .hasMessageContaining("another gateway process delivers from")
        .hasMessageContaining("server.data_dir");
    gateway.close();
    gateway = null;
    receiver.up();
    start("mode: store-and-forward");
    awaitState(id, "delivered");
    assertThat(receiver.of(id).get(0).body()).isEqualTo("kept".getBytes());
    assertThat(HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest("kept".getBytes())))
        .isEqualTo(show(id).get("body_sha256").asText());
  }
}
