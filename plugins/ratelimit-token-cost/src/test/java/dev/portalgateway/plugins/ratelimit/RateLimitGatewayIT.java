package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestGateway;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin as the gateway runs it: the built jar loaded from a plugins directory by a real
 * gateway, real HTTP in front, a fake LLM service behind that answers like OpenAI and Anthropic.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RateLimitGatewayIT {
  private static final String METRIC = "portal_gateway_ratelimit_token_cost_";

  @TempDir
  static Path pluginsDir;

  @TempDir
  Path dir;

  private FakeLlm llm;
  private TestGateway gateway;

  @BeforeAll
  static void installBuiltJar() throws Exception {
    Path jar = Path.of("target/ratelimit-token-cost.jar");
    assertThat(jar).as("the plugin jar, built in the package phase").exists();
    Files.copy(jar, pluginsDir.resolve("ratelimit-token-cost.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  @BeforeEach
  void startLlm() throws Exception {
    llm = new FakeLlm();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    llm.close();
  }

  private void start(String pluginSettings) throws Exception {
    gateway = TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir + "\"\n"
        + "upstreams:\n  llm: \"" + llm.url() + "\"\n  other: \"" + llm.url() + "\"\n"
        + "plugins:\n  ratelimit-token-cost:\n" + pluginSettings, null);
  }

  private HttpResponse<String> post(String path, String json) throws Exception {
    return gateway.client().send(HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String chat(String model, boolean stream, String extra) {
    return "{\"model\":\"" + model + "\",\"max_tokens\":50,\"stream\":" + stream + extra
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  @Test
  void aBurstBeyondTheLimitGets429WithHeadersAndRecoversAtTheRate() throws Exception {
    // 0.5 a second: no token comes back between the first four requests, however slow the machine.
    start("    requests:\n      per_lease: { rate_per_second: 0.5, burst: 3 }\n");
    for (int i = 2; i >= 0; i--) {
      HttpResponse<String> ok = gateway.get("/peer/llm/plain");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit-Limit")).hasValue("3");
      assertThat(ok.headers().firstValue("RateLimit-Remaining")).hasValue(Integer.toString(i));
      assertThat(ok.headers().firstValue("RateLimit-Reset")).isPresent();
    }
    HttpResponse<String> limited = gateway.get("/peer/llm/plain");
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).get().isIn("1", "2");
    assertThat(limited.headers().firstValue("RateLimit-Remaining")).hasValue("0");
    assertThat(limited.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(limited.body()).contains("urn:portal-gateway:problem:rate-limited", "to this route");
    assertThat(gateway.get("/peer/other/plain").statusCode()).as("another lease has its own bucket").isEqualTo(200);

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int status;
    while ((status = gateway.get("/peer/llm/plain").statusCode()) == 429) {
      assertThat(System.nanoTime()).as("a token comes back every 2 seconds").isLessThan(deadline);
      Thread.sleep(100);
    }
    assertThat(status).isEqualTo(200);
    assertThat(gateway.metrics()).contains(METRIC + "limited_total{dimension=\"lease\",}");
  }

  @Test
  void openAiJsonResponsesDrainATokenBudgetAndTheNextRequestGets429() throws Exception {
    start("    budgets:\n      per_lease: { tokens_per_minute: 400 }\n");
    int admitted = 0;
    HttpResponse<String> r;
    while ((r = post("/peer/llm/v1/chat/completions", chat("gpt-4o", false, ""))).statusCode() == 200) {
      admitted++;
      assertThat(admitted).isLessThan(10);
    }
    // 150 tokens each: after three (450) nothing is left; the third fit its estimate (about 75) into 400 - 300.
    assertThat(admitted).isEqualTo(3);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.body()).contains("budget-exhausted", "token budget per minute", "'llm'");
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    gateway.awaitMetrics(METRIC + "tokens_total{lease=\"llm\",model=\"other\",direction=\"input\",} 300.0",
        METRIC + "tokens_total{lease=\"llm\",model=\"other\",direction=\"output\",} 150.0",
        METRIC + "limited_total{dimension=\"budget_tokens\",} 1.0");
  }

  @Test
  void anthropicStreamsDrainABudgetToo() throws Exception {
    start("    budgets:\n      per_principal: { tokens_per_minute: 300 }\n");
    String body = "{\"model\":\"claude-sonnet\",\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    assertThat(post("/peer/llm/v1/messages", body).body()).contains("message_delta", "message_stop");
    gateway.awaitMetrics(m -> m.contains("direction=\"output\",} 50.0"), "the first stream's usage");
    assertThat(post("/peer/llm/v1/messages", body).statusCode()).isEqualTo(200);
    gateway.awaitMetrics(m -> m.contains("direction=\"output\",} 100.0"), "the second stream's usage");
    HttpResponse<String> r = post("/peer/llm/v1/messages", body);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.body()).contains("of this caller");
  }

  @Test
  void sseArrivesEventByEventAndTheInjectedUsageChunkIsHidden() throws Exception {
    start("    budgets:\n      per_lease: { tokens_per_minute: 100000 }\n");
    llm.holdAfterFirstEvent = new CountDownLatch(1);
    HttpResponse<InputStream> r = gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/llm/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(chat("gpt-4o", true, "")))
        .build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    StringBuilder seen = new StringBuilder();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String first = in.readLine();
      // The service holds its second event until the client has the first: it cannot have been buffered.
      assertThat(first).contains("\"content\":\"one\"");
      llm.holdAfterFirstEvent.countDown();
      for (String line; (line = in.readLine()) != null; ) {
        seen.append(line).append('\n');
      }
    }
    assertThat(seen).contains("\"content\":\"two\"", "data: [DONE]").doesNotContain("usage");
    assertThat(llm.lastBody.get()).contains("\"include_usage\":true");
    gateway.awaitMetrics(m -> m.contains("direction=\"input\",} 100.0") && m.contains("direction=\"output\",} 50.0"),
        "the usage of the hidden chunk");
  }

  @Test
  void aClientThatAsksForUsageGetsItAndOneThatRefusesItIsRespected() throws Exception {
    start("    budgets:\n      per_lease: { tokens_per_minute: 100000 }\n    no_usage_charge_tokens: 7\n");
    String asked = post("/peer/llm/v1/chat/completions",
        chat("gpt-4o", true, ",\"stream_options\":{\"include_usage\":true}")).body();
    assertThat(asked).contains("\"usage\":{\"prompt_tokens\":100");

    String refused = post("/peer/llm/v1/chat/completions",
        chat("gpt-4o", true, ",\"stream_options\":{\"include_usage\":false}")).body();
    assertThat(refused).doesNotContain("usage");
    assertThat(llm.lastBody.get()).contains("\"include_usage\":false");
    gateway.awaitMetrics(m -> m.contains(METRIC + "unmetered_responses_total{lease=\"llm\",} 1.0")
        && m.contains("direction=\"output\",} 57.0"), "the unmetered charge of 7 output tokens");
  }

  @Test
  void aCostBudgetStopsAnExpensiveModelButNeverAFreeOne() throws Exception {
    start("""
            budgets:
              per_principal: { cost_per_minute: 0.5 }
            pricing:
              gpt-4o: { input_per_1k: 1.0, output_per_1k: 2.0 }
              local-llama: 0
        """);
    int admitted = 0;
    while (post("/peer/llm/v1/chat/completions", chat("gpt-4o", false, "")).statusCode() == 200) {
      admitted++;
      assertThat(admitted).isLessThan(10);
    }
    // 0.1 input + 0.1 output = 0.2 a request: two fit into 0.5 with room for the third's estimate, or not.
    assertThat(admitted).isBetween(2, 3);
    for (int i = 0; i < 5; i++) {
      assertThat(post("/peer/llm/v1/chat/completions", chat("local-llama", false, "")).statusCode()).isEqualTo(200);
    }
    gateway.awaitMetrics(METRIC + "cost_total{lease=\"llm\",model=\"gpt-4o\",}",
        METRIC + "limited_total{dimension=\"budget_cost\",} 1.0");
  }

  @Test
  void aStreamTheClientAbandonsIsStillCharged() throws Exception {
    start("    budgets:\n      per_lease: { tokens_per_minute: 100000 }\n");
    llm.holdAfterFirstEvent = new CountDownLatch(1);
    HttpResponse<InputStream> r = gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/llm/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(chat("gpt-4o", true, "")))
        .build(), HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      assertThat(new String(in.readNBytes(20), StandardCharsets.UTF_8)).startsWith("data: ");
    }
    llm.holdAfterFirstEvent.countDown(); // the service finishes after the client has gone
    gateway.awaitMetrics(m -> m.contains("direction=\"input\",} 100.0") && m.contains("direction=\"output\",} 50.0"),
        "the abandoned stream's usage");
  }

  @Test
  void anAbandonedStreamWhoseUsageNeverComesIsChargedItsReservation() throws Exception {
    // About 75 tokens are reserved per request (max_tokens 50 plus the body); the budget holds one.
    start("    budgets:\n      per_lease: { tokens_per_minute: 120 }\n    abandoned_stream_timeout: 300ms\n");
    llm.holdAfterFirstEvent = new CountDownLatch(1);
    llm.stallBeforeUsage = new CountDownLatch(1);
    try {
      HttpResponse<InputStream> r = gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/llm/v1/chat/completions"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(chat("gpt-4o", true, "")))
          .build(), HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        assertThat(new String(in.readNBytes(20), StandardCharsets.UTF_8)).startsWith("data: ");
      }
      // The client has left; the service sends a little more, then goes quiet before its usage:
      // the drain gives up after 300 ms and settles what it has.
      llm.holdAfterFirstEvent.countDown();
      // What it is charged (its reservation) is what the metrics report.
      gateway.awaitMetrics(m -> m.contains(METRIC + "tokens_total{lease=\"llm\",model=\"other\",direction=\"output\",}")
          && !m.contains(METRIC + "tokens_total{lease=\"llm\",model=\"other\",direction=\"output\",} 0.0"),
          "the abandoned stream settled at its reservation");
      HttpResponse<String> next = post("/peer/llm/v1/chat/completions", chat("gpt-4o", false, ""));
      assertThat(next.statusCode()).as("the reservation stayed charged").isEqualTo(429);
      assertThat(next.body()).contains("budget-exhausted");
    } finally {
      llm.holdAfterFirstEvent.countDown();
      llm.stallBeforeUsage.countDown();
    }
  }

  @Test
  void aDeadRedisFailsOpenOrClosedAsConfigured() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    String redis = "    store: redis\n    redis: { url: \"redis://127.0.0.1:" + deadPort + "\", timeout: 200ms }\n"
        + "    requests:\n      per_lease: { rate_per_second: 100 }\n";
    start(redis + "    on_store_failure: open\n");
    assertThat(gateway.get("/peer/llm/plain").statusCode()).isEqualTo(200);
    assertThat(gateway.metrics()).contains(METRIC + "store_failures_total{operation=\"take\",}");
    gateway.close();

    start(redis + "    on_store_failure: closed\n");
    HttpResponse<String> r = gateway.get("/peer/llm/plain");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("rate-limit-store-unavailable");
  }

  @Test
  void badSettingsAreRefusedWithTheirKeys() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start(
            "    store: memcached\n    requests:\n      per_lease: { rate_per_second: 0 }\n    pricing: { gpt-4o: cheap }\n"))
        .hasMessageContaining("plugins.ratelimit-token-cost.store")
        .hasMessageContaining("per_lease.rate_per_second")
        .hasMessageContaining("pricing.gpt-4o");
  }
}
