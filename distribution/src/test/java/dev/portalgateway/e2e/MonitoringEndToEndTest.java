package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.plugins.ratelimit.FakeLlm;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import dev.portalgateway.redis.RedisServerProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/grafana/portal-gateway.json} and {@code deploy/prometheus/alerts.yml} against a
 * real Prometheus (Debian's) scraping the built gateway with every metric-bearing plugin on, while
 * traffic goes through it: 401s, 429s, a cache hit, AI usage, a lease through a relay, webhooks
 * dead-lettered and paused, a rejected reload, a refused keys file, Redis going away, a 502. Every
 * metric that a panel or a rule names must exist in Prometheus, every panel's query must return
 * data, every rule must evaluate cleanly, and the alerts for what the test broke must go active.
 * promtool checks the rules and runs their unit tests.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MonitoringEndToEndTest {
  static final Path DEPLOY = Path.of("../deploy").toAbsolutePath().normalize();
  static final Path DASHBOARD = DEPLOY.resolve("grafana/portal-gateway.json");
  static final Path ALERTS = DEPLOY.resolve("prometheus/alerts.yml");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new YAMLMapper();

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  // ---- metric names in PromQL

  private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
      "and", "or", "unless", "offset", "bool", "inf", "nan");
  private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*\\w+\\s*\\)\\s*$", Pattern.DOTALL);

  /**
   * The metric names in a PromQL expression (or a Grafana {@code label_values(...)} query): the
   * identifiers that are not functions, keywords, label names or values, durations or variables.
   */
  static Set<String> metricNames(String expression) {
    Matcher lv = LABEL_VALUES.matcher(expression);
    String s = lv.matches() ? lv.group(1) : expression;
    s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`", " ") // strings
        .replaceAll("\\{[^}]*}", " ")                                                // label matchers
        .replaceAll("\\[[^]]*]", " ")                                                // ranges, subqueries
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ") // label lists
        .replaceAll("\\$\\{?\\w+}?", " ");                                           // Grafana variables
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("(?<![\\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*+)(?!\\s*\\()").matcher(s);
    while (m.find()) {
      String word = m.group(1);
      if (!KEYWORDS.contains(word.toLowerCase())) {
        names.add(word);
      }
    }
    return names;
  }

  @Test
  void metricNamesAreFoundInPromQl() {
    assertThat(metricNames("sum by (route, le) (rate(portal_gateway_x_bucket{job=~\"$job\", route=\"a b\"}[$__rate_interval]))"))
        .containsExactly("portal_gateway_x_bucket");
    assertThat(metricNames("histogram_quantile(0.99, sum without (route) (rate(a_bucket[5m]))) > 0.5 and on (job) b offset 5m"))
        .containsExactly("a_bucket", "b");
    assertThat(metricNames("up{job=~\"portal-gateway.*\"} == 0 unless ignoring(x) group_left (y) c:recorded"))
        .containsExactly("c:recorded", "up");
    assertThat(metricNames("label_values(portal_gateway_requests_total{job=~\"$job\"}, route)"))
        .containsExactly("portal_gateway_requests_total");
    assertThat(metricNames("max by (job, route) (m{state=\"dead\"}) > 0 or vector(1e3) * 2")).containsExactly("m");
  }

  /** Every expression of the dashboard: panels' targets and the variables' queries. */
  static Map<String, String> dashboardExpressions() throws IOException {
    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    Map<String, String> expressions = new LinkedHashMap<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        expressions.put(panel.path("title").asText() + " " + target.path("refId").asText(), target.path("expr").asText());
      }
    }
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        expressions.put("variable " + variable.path("name").asText(), variable.path("query").path("query").asText());
      }
    }
    return expressions;
  }

  static Map<String, String> ruleExpressions() throws IOException {
    Map<String, String> expressions = new LinkedHashMap<>();
    for (JsonNode group : YAML.readTree(ALERTS.toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        expressions.put(rule.path("alert").asText(), rule.path("expr").asText());
      }
    }
    return expressions;
  }

  @Test
  void theDashboardIsGrafanaJsonOnATemplatedPrometheus() throws Exception {
    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
    assertThat(dashboard.path("uid").asText()).isNotBlank();
    List<String> variables = new ArrayList<>();
    dashboard.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
    assertThat(variables).containsExactly("datasource", "job", "instance", "route");
    Set<Integer> ids = new TreeSet<>();
    List<String> titles = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      assertThat(ids.add(panel.path("id").asInt())).as("unique panel id %s", panel.path("id")).isTrue();
      JsonNode grid = panel.path("gridPos");
      assertThat(grid.path("w").asInt() + grid.path("x").asInt()).isBetween(1, 24);
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      titles.add(panel.path("title").asText());
      assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText()).isEqualTo("${datasource}");
      assertThat(panel.path("targets")).as(panel.path("title").asText()).isNotEmpty();
      panel.path("targets").forEach(t -> assertThat(t.path("expr").asText()).isNotBlank());
    }
    // The list: request rate, errors, latency percentiles, overhead, per-lease traffic,
    // relay state, rejections, budgets, cache hit ratio, webhook queue.
    String all = String.join("\n", dashboardExpressions().values());
    assertThat(all).contains("rate(portal_gateway_requests_total", "status_class=\"5xx\"",
        "histogram_quantile(0.99, sum by (le) (rate(portal_gateway_request_duration_seconds_bucket",
        "portal_gateway_overhead_seconds_bucket", "portal_gateway_relay_bytes_total", "portal_gateway_relay_connected",
        "portal_gateway_auth_apikey_requests_total", "portal_gateway_ratelimit_token_cost_limited_total",
        "portal_gateway_ratelimit_token_cost_budget_remaining", "result=~\"hit|coalesced\"",
        "portal_gateway_webhook_retry_webhooks");
  }

  @Test
  void promtoolChecksTheRulesAndRunsTheirUnitTests() throws Exception {
    Run check = run(DEPLOY.resolve("prometheus"), "promtool", "check", "rules", "alerts.yml");
    assertThat(check.exit()).as(check.output()).isZero();
    assertThat(check.output()).contains("SUCCESS: " + ruleExpressions().size() + " rules found");
    Run tests = run(DEPLOY.resolve("prometheus"), "promtool", "test", "rules", "alerts.test.yml");
    assertThat(tests.exit()).as(tests.output()).isZero();
    // Every alert has a unit test.
    JsonNode unitTests = YAML.readTree(DEPLOY.resolve("prometheus/alerts.test.yml").toFile());
    Set<String> tested = new TreeSet<>();
    for (JsonNode t : unitTests.path("tests")) {
      t.path("alert_rule_test").forEach(a -> {
        if (!a.path("exp_alerts").isEmpty()) {
          tested.add(a.path("alertname").asText());
        }
      });
    }
    assertThat(tested).containsExactlyInAnyOrderElementsOf(ruleExpressions().keySet());
  }

  @Test
  void everyMetricOfTheDashboardAndTheAlertsExistsInPrometheusScrapingTheGateway() throws Exception {
    Map<String, Set<String>> usedBy = new TreeMap<>(); // metric -> where it is used
    dashboardExpressions().forEach((where, e) -> metricNames(e).forEach(n -> usedBy.computeIfAbsent(n, k -> new TreeSet<>()).add("dashboard: " + where)));
    ruleExpressions().forEach((alert, e) -> metricNames(e).forEach(n -> usedBy.computeIfAbsent(n, k -> new TreeSet<>()).add("alert " + alert)));
    assertThat(usedBy).containsKeys("up", "portal_gateway_requests_total", "portal_gateway_overhead_seconds_bucket",
        "portal_gateway_webhook_retry_webhooks", "portal_gateway_ratelimit_token_cost_store_failures_total");
    // Every gateway metric they name is documented.
    String docs = Files.readString(DEPLOY.resolveSibling("docs/operations.md"));
    for (String name : usedBy.keySet()) {
      if (name.startsWith("portal_gateway_")) {
        assertThat(docs).as("docs/operations.md documents %s", name).contains(name.replaceAll("_(bucket|sum|count)$", ""));
      }
    }

    try (RedisServerProcess redis = RedisServerProcess.startOnFreePort();
         FakeLlm llm = new FakeLlm();
         TestBackend backend = new TestBackend()
             .route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "hello"))
             .route("/cached", ex -> {
               ex.getResponseHeaders().set("Cache-Control", "public, max-age=300");
               TestBackend.respond(ex, 200, "text/plain", "cacheable");
             })
             .route("/fail", ex -> TestBackend.respond(ex, 500, "text/plain", "failing"))
             .route("/gone", ex -> TestBackend.respond(ex, 410, "text/plain", "gone"));
         DevRelay relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
         DevTunnel tunnel = DevTunnel.start(relay.url(), PortalIdentity.generate(), "svc",
             new InetSocketAddress("127.0.0.1", URI.create(backend.url()).getPort()))) {
      // The key first: the rate limiter reports its budget by the key's id.
      Path config = dir.resolve("gateway.yaml");
      Files.writeString(config, gatewayConfig(relay, backend, llm, redis, "placeholder"));
      GatewayProcess.Result added = GatewayProcess.run(dir, "add-key", "--name", "monitoring", "--generate",
          "--config", config.toString());
      assertThat(added.exitCode()).as(added.stderr()).isZero();
      Matcher keyMatch = Pattern.compile("sk_live_([A-Za-z0-9]+)_[A-Za-z0-9_-]+").matcher(added.stdout());
      assertThat(keyMatch.find()).isTrue();
      String key = keyMatch.group();
      String good = gatewayConfig(relay, backend, llm, redis, keyMatch.group(1));
      Files.writeString(config, good);

      try (GatewayProcess gateway = GatewayProcess.serve(dir, config);
           Prometheus prometheus = Prometheus.start(dir, gateway.adminPort, ALERTS)) {
        try {
          drive(gateway, prometheus, config, good, key, redis, usedBy);
        } catch (AssertionError e) {
          System.out.println("[MonitoringEndToEndTest] the gateway's log:\n" + gateway.stdout().lines()
              .filter(l -> !l.contains("\"logger\":\"access\"")).collect(Collectors.joining("\n")));
          throw e;
        }
      }
    }
  }

  private void drive(GatewayProcess gateway, Prometheus prometheus, Path config, String good, String key,
      RedisServerProcess redis, Map<String, Set<String>> usedBy) throws Exception {
    String base = "http://127.0.0.1:" + gateway.port + "/peer/";
    String admin = "http://127.0.0.1:" + gateway.adminPort;
    await("the gateway connected to the relay", () -> status(get(admin + "/readyz", null)) == 200);
    // Prometheus has scraped the counters that the one-off alerts watch while they were 0,
    // before anything goes wrong, as it would have in production.
    for (String counter : List.of("portal_gateway_config_reloads_total{outcome=\"rejected\"}",
        "portal_gateway_auth_apikey_keys_file_reloads_total{result=\"refused\"}",
        "portal_gateway_ratelimit_token_cost_store_failures_total{operation=\"take\"}")) {
      await("Prometheus has " + counter + " at 0", () -> prometheus.api("/api/v1/query?query="
          + URLEncoder.encode(counter + " == 0", StandardCharsets.UTF_8)).path("data").path("result").size() == 1);
    }

    // Traffic. 401s, then 200s and 429s from the route's limit of 3.
    for (int i = 0; i < 2; i++) {
      assertThat(status(get(base + "backend/", null))).isEqualTo(401);
    }
    List<Integer> limited = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      limited.add(status(get(base + "backend/", key)));
    }
    assertThat(limited).containsExactly(200, 200, 200, 429, 429);
    // A miss, then a hit from the cache (the hit ratio panel below has no data without it).
    for (int i = 0; i < 2; i++) {
      assertThat(body(get(base + "cache/cached", key))).isEqualTo("cacheable");
    }
    // AI usage under a budget, a lease through the relay, a 502 from an upstream that is down.
    HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(base + "llm/v1/chat/completions"))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(chat.statusCode()).isEqualTo(200);
    for (int i = 0; i < 2; i++) {
      assertThat(status(get(base + "svc/", key))).isEqualTo(200);
    }
    assertThat(status(get(base + "down/", key))).isEqualTo(502);
    // Webhooks: one that the service refuses (500, one attempt: dead), one it calls gone (410: paused).
    for (String route : List.of("hooks", "gone")) {
      HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create(base + route + "/event"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(accepted.statusCode()).as(route).isEqualTo(202);
    }
    await("a dead webhook and a paused route", () -> {
      String m = body(get(admin + "/metrics", null));
      return m.contains("portal_gateway_webhook_retry_webhooks{route=\"hooks\",state=\"dead\",} 1.0")
          && m.contains("portal_gateway_webhook_retry_route_paused{route=\"gone\",} 1.0");
    });
    // A configuration that is rejected (the first reload: the counter's series exists from 0).
    Files.writeString(config, good.replace("server:\n", "server:\n  no_such_key: 1\n"));
    await("the reload rejected", () -> body(get(admin + "/metrics", null))
        .matches("(?s).*portal_gateway_config_reloads_total\\{outcome=\"rejected\",} [1-9].*"));
    // A keys file that is refused.
    Path keysFile = dir.resolve("data/plugins/auth-apikey/keys.yaml");
    Files.writeString(keysFile, Files.readString(keysFile) + "\nnot_a_field: true\n");
    await("the keys file refused", () -> body(get(admin + "/metrics", null))
        .matches("(?s).*portal_gateway_auth_apikey_keys_file_reloads_total\\{result=\"refused\",} [1-9].*"));
    // Redis goes away: the limiter lets requests through (open) and counts failures.
    redis.kill();
    await("store failures counted", () -> {
      get(base + "backend/", key);
      return body(get(admin + "/metrics", null)).matches("(?s).*store_failures_total\\{operation=\"\\w+\",} [1-9].*");
    });

    // Every metric the dashboard and the rules name is in Prometheus.
    Set<String> missing = new TreeSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      JsonNode names = prometheus.api("/api/v1/label/__name__/values");
      Set<String> present = new TreeSet<>();
      names.path("data").forEach(n -> present.add(n.asText()));
      missing = new TreeSet<>(usedBy.keySet());
      missing.removeAll(present);
      if (missing.isEmpty() || System.nanoTime() > deadline) {
        break;
      }
      // Keep the failing store failing between scrapes, so the rule sees the counter move.
      get(base + "backend/", key);
      Thread.sleep(500);
    }
    Set<String> finalMissing = missing;
    assertThat(missing).as("metrics not in Prometheus: %s", finalMissing.stream()
        .map(n -> n + " (" + usedBy.get(n) + ")").collect(Collectors.joining("; "))).isEmpty();

    // Every panel's query runs and returns data (once Prometheus has two scrapes since the
    // traffic: rate() needs two samples).
    Map<String, String> failed = new TreeMap<>();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    do {
      failed.clear();
      for (var e : dashboardExpressions().entrySet()) {
        if (e.getKey().startsWith("variable ")) {
          continue;
        }
        String query = e.getValue().replace("$__rate_interval", "1m")
            .replace("$job", ".*").replace("$instance", ".*").replace("$route", ".*");
        JsonNode answer = prometheus.api("/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        assertThat(answer.path("status").asText()).as("%s: %s", e.getKey(), answer).isEqualTo("success");
        if (answer.path("data").path("result").isEmpty()) {
          failed.put(e.getKey(), query);
        }
      }
      get(base + "backend/", key);
      Thread.sleep(500);
    } while (!failed.isEmpty() && System.nanoTime() < deadline);
    assertThat(failed).as("dashboard queries without data").isEmpty();

    // Every rule evaluates without error, and the alerts for what was broken above go active.
    int ruleCount = ruleExpressions().size();
    await("every rule evaluated", () -> {
      JsonNode rules = prometheus.api("/api/v1/rules");
      List<JsonNode> all = new ArrayList<>();
      rules.path("data").path("groups").forEach(g -> g.path("rules").forEach(all::add));
      return all.size() == ruleCount && all.stream().allMatch(r -> r.path("health").asText().equals("ok"));
    });
    Set<String> expected = Set.of("PortalGatewayConfigReloadRejected", "PortalGatewayKeysFileRefused",
        "PortalGatewayRateLimitStoreUnavailable", "PortalGatewayWebhookDeadLetters", "PortalGatewayWebhookRoutePaused");
    Set<String> active = new TreeSet<>();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!active.containsAll(expected) && System.nanoTime() < deadline) {
      get(base + "backend/", key); // Redis is still away
      active.clear();
      prometheus.api("/api/v1/alerts").path("data").path("alerts").forEach(a -> active.add(a.path("labels").path("alertname").asText()));
      Thread.sleep(500);
    }
    assertThat(active).containsAll(expected).doesNotContain("PortalGatewayRelayDisconnected", "PortalGatewayDown");

    // The gateway stops: Prometheus cannot scrape it, and the alert for that goes active.
    assertThat(gateway.terminate()).isZero();
    await("PortalGatewayDown active", () -> {
      Set<String> now = new TreeSet<>();
      prometheus.api("/api/v1/alerts").path("data").path("alerts").forEach(a -> now.add(a.path("labels").path("alertname").asText()));
      return now.contains("PortalGatewayDown");
    });
  }

  private static String gatewayConfig(DevRelay relay, TestBackend backend, FakeLlm llm, RedisServerProcess redis,
      String keyId) throws IOException {
    return """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          data_dir: "data"
          config_reload_interval: 200ms
        relay:
          url: "%1$s"
        upstreams:
          backend: "%2$s"
          cache: "%2$s"
          llm: "%3$s"
          down: "http://127.0.0.1:%5$d"
          hooks: "%2$s/fail"
          gone: "%2$s/gone"
        plugins:
          auth-apikey:
            public_leases: [hooks, gone]
            reload_interval: 200ms
          ratelimit-token-cost:
            store: redis
            redis: { url: "%4$s" }
            on_store_failure: open
            overrides:
              leases:
                backend: { requests: { rate_per_second: 0.01, burst: 3 } }
            budgets:
              per_principal: { tokens_per_minute: 100000 }
            pricing: { gpt-4o: 0.03 }
            report_principals: [%6$s]
          cache-mcp: {}
          webhook-retry:
            enabled: false
            poll_interval: 100ms
            routes:
              hooks: { mode: store-and-forward, max_attempts: 1 }
              gone: { mode: store-and-forward }
        """.formatted(relay.url(), backend.url(), llm.url(), redis.url(), RedisServerProcess.freePort(), keyId);
  }

  // ---- plumbing

  private HttpResponse<String> get(String url, String key) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
      if (key != null) {
        b.header("Authorization", "Bearer " + key);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static int status(HttpResponse<String> r) {
    return r == null ? -1 : r.statusCode();
  }

  private static String body(HttpResponse<String> r) {
    return r == null ? "" : r.body();
  }

  private static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.get()) {
      assertThat(System.nanoTime()).as("%s within 60 s", what).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  record Run(int exit, String output) {}

  static Run run(Path workDir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }

  /** Debian's Prometheus on a free loopback port, scraping one gateway every second, with the rules. */
  static final class Prometheus implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final String url;
    private final HttpClient client = HttpClient.newHttpClient();

    private Prometheus(Process process, Path log, String url) {
      this.process = process;
      this.log = log;
      this.url = url;
    }

    static Prometheus start(Path dir, int adminPort, Path rules) throws Exception {
      Path home = Files.createDirectories(dir.resolve("prometheus"));
      Path config = home.resolve("prometheus.yml");
      Files.writeString(config, """
          global:
            scrape_interval: 1s
            evaluation_interval: 1s
          rule_files:
            - "%s"
          scrape_configs:
            - job_name: portal-gateway
              static_configs:
                - targets: ["127.0.0.1:%d"]
          """.formatted(rules, adminPort));
      Run check = run(home, "promtool", "check", "config", config.toString());
      assertThat(check.exit()).as(check.output()).isZero();
      int port = RedisServerProcess.freePort();
      Path log = home.resolve("prometheus.log");
      Process p = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + home.resolve("data"),
          "--web.listen-address=127.0.0.1:" + port).directory(home.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      Prometheus prometheus = new Prometheus(p, log, "http://127.0.0.1:" + port);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          HttpResponse<String> ready = prometheus.client.send(HttpRequest.newBuilder(URI.create(prometheus.url + "/-/ready"))
              .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
          if (ready.statusCode() == 200) {
            return prometheus;
          }
        } catch (IOException notYet) {
          // starting
        }
        if (!p.isAlive() || System.nanoTime() > deadline) {
          prometheus.close();
          throw new AssertionError("Prometheus did not start:\n" + Files.readString(log));
        }
        Thread.sleep(100);
      }
    }

    JsonNode api(String path) {
      try {
        return JSON.readTree(client.send(HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString()).body());
      } catch (IOException e) {
        throw new AssertionError("Prometheus " + path + ": " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      client.close();
    }
  }
}
