package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.plugins.ratelimit.FakeLlm;
import dev.portalgateway.redis.RedisServerProcess;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "done when" for ratelimit-token-cost, through the built jar: bursts and their
 * recovery, a fake LLM draining a token budget, streams that still arrive event by event, and two
 * gateway processes holding one combined limit through one Redis.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RateLimitEndToEndTest {
  @TempDir
  Path dir;

  private FakeLlm llm;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void startLlm() throws Exception {
    llm = new FakeLlm();
  }

  @AfterEach
  void stop() {
    llm.close();
    client.shutdownNow();
  }

  private Path config(String name, String plugin) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
        relay:
          enabled: false
        upstreams:
          llm: "%s"
          burst: "%s"
        plugins:
          ratelimit-token-cost:
        %s""".formatted(llm.url(), llm.url(), plugin.indent(4)));
    return file;
  }

  private HttpResponse<String> get(GatewayProcess g, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest chat(GatewayProcess g, boolean stream) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port + "/peer/llm/v1/chat/completions"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"max_tokens\":50,\"stream\":" + stream
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
        .build();
  }

  private String metrics(GatewayProcess g) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.adminPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void burstsBudgetsAndStreamsThroughTheBuiltJar() throws Exception {
    Path c = config("local.yaml", """
        overrides:
          leases:
            burst: { requests: { rate_per_second: 0.2, burst: 5 } }
        budgets:
          per_principal: { tokens_per_minute: 450 }
        """);
    try (GatewayProcess g = GatewayProcess.serve(dir, c)) {
      // A burst beyond the limit: five pass with the RateLimit-* headers counting down, then 429.
      // (0.2 a second: no token comes back between these requests, however slow the machine.)
      for (int left = 4; left >= 0; left--) {
        HttpResponse<String> ok = get(g, "/peer/burst/plain");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("RateLimit-Limit")).hasValue("5");
        assertThat(ok.headers().firstValue("RateLimit-Remaining")).hasValue(Integer.toString(left));
      }
      HttpResponse<String> limited = get(g, "/peer/burst/plain");
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.headers().firstValue("Retry-After").map(Integer::parseInt).orElseThrow()).isBetween(1, 5);
      assertThat(limited.body()).contains("rate-limited");
      // ... and recovers at the configured rate.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (get(g, "/peer/burst/plain").statusCode() == 429) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.sleep(100);
      }

      // A stream still arrives event by event: the service holds its second event until the
      // client has read the first. The stream's usage (150 tokens) is charged.
      llm.holdAfterFirstEvent = new CountDownLatch(1);
      HttpResponse<InputStream> stream = client.send(chat(g, true), HttpResponse.BodyHandlers.ofInputStream());
      assertThat(stream.statusCode()).isEqualTo(200);
      try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
        assertThat(in.readLine()).contains("\"content\":\"one\"");
        llm.holdAfterFirstEvent.countDown();
        StringBuilder rest = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
          rest.append(line).append('\n');
        }
        assertThat(rest).contains("\"content\":\"two\"", "[DONE]").doesNotContain("usage");
      }
      llm.holdAfterFirstEvent = null;

      // JSON responses drain the rest of the budget: 150 tokens each, 450 a minute.
      int admitted = 0;
      HttpResponse<String> r;
      while ((r = client.send(chat(g, false), HttpResponse.BodyHandlers.ofString())).statusCode() == 200) {
        admitted++;
        assertThat(admitted).isLessThan(5);
      }
      assertThat(admitted).isBetween(1, 2);
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.body()).contains("budget-exhausted");
      assertThat(metrics(g)).contains("portal_gateway_ratelimit_token_cost_limited_total{dimension=\"budget_tokens\",}");
    }
  }

  @Test
  void twoGatewaysSharingOneRedisHoldOneCombinedLimit() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.startOnFreePort()) {
      String plugin = """
          store: redis
          redis: { url: "%s" }
          on_store_failure: closed
          requests:
            per_lease: { rate_per_second: 0.2, burst: 10 }
          """.formatted(redis.url());
      try (GatewayProcess a = GatewayProcess.serve(dir, config("a.yaml", plugin));
           GatewayProcess b = GatewayProcess.serve(dir, config("b.yaml", plugin))) {
        long started = System.nanoTime();
        int admittedA = 0;
        int admittedB = 0;
        for (int i = 0; i < 15; i++) {
          admittedA += get(a, "/peer/llm/plain").statusCode() == 200 ? 1 : 0;
          admittedB += get(b, "/peer/llm/plain").statusCode() == 200 ? 1 : 0;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        // Separate buckets would let 10 through each; one shared bucket lets 10 through in all,
        // plus what it refilled at 0.2 a second while the test ran.
        assertThat(admittedA + admittedB).isGreaterThanOrEqualTo(10)
            .isLessThanOrEqualTo(10 + (int) Math.ceil(seconds * 0.2));
        assertThat(admittedA).isPositive();
        assertThat(admittedB).isPositive();
      }
    }
  }
}
