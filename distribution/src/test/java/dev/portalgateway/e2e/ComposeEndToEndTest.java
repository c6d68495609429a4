package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code deploy/compose/compose.yaml} (issue 21, item 3) brought up with podman-compose from
 * Debian, with images built here from the local Debian base: everything but Grafana, whose image
 * cannot be fetched without a registry. Requests go through the load balancer with an API key from
 * the environment; both replicas answer, through the relay and the tunnel to the demo MCP service;
 * a key that {@code add-key} writes in one replica works in both; one rate limit holds across the
 * two through Redis; Prometheus scrapes both and loads the alert rules. Then it is brought down.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES) // the first run on a machine builds five images
class ComposeEndToEndTest {
  private static final Path COMPOSE = Podman.ROOT.resolve("deploy/compose");
  private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final Pattern KEY = Pattern.compile("sk_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}");
  private static final int BURST = 6;
  private static Podman podman;
  private static final Map<String, String> images = new LinkedHashMap<>();

  private final String project = "pgwe2e" + UUID.randomUUID().toString().substring(0, 8);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private int lbPort;

  @BeforeAll
  static void buildImages() throws Exception {
    podman = Podman.require().requireCompose();
    images.put("GATEWAY_IMAGE", podman.gatewayImage());
    images.put("LB_IMAGE", podman.imageFrom(COMPOSE.resolve("haproxy"), "localhost/portal-gateway-e2e-haproxy"));
    images.put("REDIS_IMAGE", podman.imageFrom(COMPOSE.resolve("redis"), "localhost/portal-gateway-e2e-redis"));
    images.put("PROMETHEUS_IMAGE", podman.imageFrom(COMPOSE.resolve("prometheus"),
        "localhost/portal-gateway-e2e-prometheus"));
  }

  @Test
  void twoReplicasBehindTheLoadBalancerServeOneKeySetAndOneRateLimit() throws Exception {
    lbPort = freePort();
    int prometheusPort = freePort();
    String clientKey = newKey();
    Map<String, String> env = new LinkedHashMap<>(images);
    env.put("CLIENT_API_KEY", clientKey);
    env.put("RATE_PER_SECOND", "0.001"); // one token in 1,000 s: no refill during the test
    env.put("RATE_BURST", Integer.toString(BURST));
    env.put("GATEWAY_PORT", Integer.toString(lbPort));
    env.put("PROMETHEUS_PORT", Integer.toString(prometheusPort));
    try {
      Podman.Result up = compose(env, Duration.ofMinutes(5), "up", "-d", "--no-build",
          "redis", "relay", "mcp", "tunnel", "gateway-1", "gateway-2", "lb", "prometheus");
      assertThat(up.exitCode()).as("podman-compose up:%n%s", up.all()).isZero();

      // The lease is there, and the load balancer sends to both replicas once each is ready (its
      // /readyz: connected to the relay). Without a key every answer is a 401, which spends nothing.
      awaitLog("tunnel", "lease registered");
      Set<String> seen = new TreeSet<>();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (seen.size() < 2) {
        HttpResponse<String> r = tryGet("/peer/mcp/");
        if (r != null && r.statusCode() == 401) {
          seen.add(r.headers().firstValue("X-Gateway-Replica").orElse("?"));
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("both replicas never answered through the load balancer (saw " + seen + ")\n" + logs());
        }
        Thread.sleep(250);
      }
      assertThat(seen).containsExactly("gateway-1", "gateway-2");

      // The key from the environment, through the relay and the tunnel to the demo MCP service; the
      // load balancer alternates, so two requests reach both replicas.
      List<Answer> answers = new ArrayList<>();
      HttpResponse<String> init = client.send(HttpRequest.newBuilder(lb("/peer/mcp/mcp"))
          .header("Authorization", "Bearer " + clientKey).header("Content-Type", "application/json")
          .header("Accept", "application/json, text/event-stream").timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
              + "{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e\",\"version\":\"1\"}}}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      answers.add(Answer.of(init));
      assertThat(init.statusCode()).as(init.body()).isEqualTo(200);
      assertThat(init.body()).contains("\"serverInfo\"");
      HttpResponse<String> hello = get("/peer/mcp/", "Authorization", "Bearer " + clientKey);
      answers.add(Answer.of(hello));
      assertThat(hello.statusCode()).as(hello.body()).isEqualTo(200);
      assertThat(hello.body()).contains("Hello from a service behind a Portal relay");
      assertThat(List.of(answers.get(0).replica(), answers.get(1).replica())).containsExactlyInAnyOrder("gateway-1", "gateway-2");

      // One limit for both: the key's bucket holds BURST tokens in Redis (with no refill to speak of),
      // so the RateLimit-Remaining of the passing answers counts down once across both replicas, and
      // then both refuse. Separate buckets would count down on each replica and let 2 * BURST pass.
      // An answer without RateLimit-* headers is one the store did not answer in time, which the
      // default on_store_failure (open) lets through uncounted; it spends no token.
      while (answers.size() < 40 && !(refusedBy(answers, "gateway-1") && refusedBy(answers, "gateway-2"))) {
        answers.add(Answer.of(get("/peer/mcp/", "Authorization", "Bearer " + clientKey)));
      }
      assertThat(answers).as("%s", answers).allSatisfy(a -> assertThat(a.status()).isIn(200, 429));
      List<Answer> counted = answers.stream().filter(a -> a.status() == 200 && a.remaining() != null).toList();
      assertThat(counted.stream().map(Answer::remaining).toList()).as("%s", answers)
          .isEqualTo(java.util.stream.IntStream.range(0, BURST).mapToObj(i -> Integer.toString(BURST - 1 - i)).toList());
      assertThat(counted.stream().map(Answer::replica).distinct()).as("%s", answers)
          .containsExactlyInAnyOrder("gateway-1", "gateway-2");
      assertThat(refusedBy(answers, "gateway-1") && refusedBy(answers, "gateway-2")).as("%s", answers).isTrue();
      HttpResponse<String> limited = get("/peer/mcp/", "Authorization", "Bearer " + clientKey);
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.body()).contains("rate-limited");

      // add-key in one replica writes the keys file on the volume both share: both take the key.
      String added = podman.check("exec", container("gateway-1"), "portal-gateway", "add-key", "--name", "ops",
          "--leases", "mcp", "--generate", "--config", "/etc/portal-gateway/gateway.yaml");
      Matcher m = KEY.matcher(added);
      assertThat(m.find()).as(added).isTrue();
      String opsKey = m.group();
      Set<String> accepted = new TreeSet<>();
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (accepted.size() < 2) {
        HttpResponse<String> r = get("/peer/mcp/", "X-API-Key", opsKey);
        assertThat(r.statusCode()).as(r.body()).isIn(200, 401); // 401 until a replica has reloaded the file
        if (r.statusCode() == 200) {
          accepted.add(r.headers().firstValue("X-Gateway-Replica").orElse("?"));
        }
        assertThat(System.nanoTime()).as("both replicas took the new key (so far %s)", accepted).isLessThan(deadline);
        Thread.sleep(200);
      }

      // Prometheus: the configuration and alert rules check, both replicas are scraped, and the
      // rule groups it loaded are those of deploy/prometheus/alerts.yml.
      Podman.Result promtool = podman.podman("exec", container("prometheus"), "promtool", "check", "config",
          "/etc/prometheus/prometheus.yml");
      assertThat(promtool.exitCode()).as(promtool.all()).isZero();
      URI query = URI.create("http://127.0.0.1:" + prometheusPort + "/api/v1/query?query="
          + URLEncoder.encode("sum by (instance) (portal_gateway_requests_total)", StandardCharsets.UTF_8));
      deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      String series = "";
      while (!(series.contains("\"instance\":\"gateway-1:9090\"") && series.contains("\"instance\":\"gateway-2:9090\""))) {
        assertThat(System.nanoTime()).as("Prometheus scraped both replicas: %s", series).isLessThan(deadline);
        Thread.sleep(1000);
        HttpResponse<String> r = tryGet(query);
        series = r == null ? "" : r.body();
      }
      HttpResponse<String> rules = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + prometheusPort + "/api/v1/rules")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(rules.statusCode()).isEqualTo(200);
      assertThat(groupNames(new ObjectMapper().readTree(rules.body()).path("data").path("groups")))
          .isEqualTo(groupNames(new YAMLMapper().readTree(Podman.ROOT.resolve("deploy/prometheus/alerts.yml").toFile())
              .path("groups")));
    } finally {
      Files.writeString(podman.logFile("compose-" + project + ".log"), logs());
      compose(env, Duration.ofMinutes(3), "--podman-rm-args=-v", "down", "-v", "-t", "40"); // -v: anonymous volumes too
      podman.podman("network", "rm", "-f", project + "_default"); // podman-compose 1.0.3 leaves it
      client.shutdownNow();
    }
  }

  private Podman.Result compose(Map<String, String> env, Duration timeout, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("podman-compose", "-p", project, "-f",
        COMPOSE.resolve("compose.yaml").toString()));
    command.addAll(List.of(args));
    return podman.run(timeout, command, env);
  }

  private String container(String service) {
    return project + "_" + service + "_1"; // podman-compose 1.0.3's names
  }

  private void awaitLog(String service, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!podman.podman("logs", container(service)).all().contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(service + " never logged '" + text + "'\n" + logs());
      }
      Thread.sleep(500);
    }
  }

  /** Every container's log, for the report of a failure and target/container-logs. */
  private String logs() throws IOException, InterruptedException {
    StringBuilder sb = new StringBuilder();
    for (String service : List.of("lb", "gateway-1", "gateway-2", "relay", "tunnel", "mcp", "redis", "prometheus")) {
      Podman.Result r = podman.podman("logs", "--tail", "40", container(service));
      sb.append("--- ").append(service).append(":\n").append(r.all());
    }
    return sb.toString();
  }

  /** One answer through the load balancer: which replica, its status, its RateLimit-Remaining. */
  private record Answer(String replica, int status, String remaining) {
    static Answer of(HttpResponse<String> r) {
      return new Answer(r.headers().firstValue("X-Gateway-Replica").orElse("?"), r.statusCode(),
          r.headers().firstValue("RateLimit-Remaining").orElse(null));
    }
  }

  private static boolean refusedBy(List<Answer> answers, String replica) {
    return answers.stream().anyMatch(a -> a.replica().equals(replica) && a.status() == 429);
  }

  private static Set<String> groupNames(JsonNode groups) {
    Set<String> names = new TreeSet<>();
    groups.forEach(g -> names.add(g.path("name").asText()));
    return names;
  }

  private URI lb(String path) {
    return URI.create("http://127.0.0.1:" + lbPort + path);
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(lb(path)).timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** @return the answer, or {@code null} while nothing answers yet */
  private HttpResponse<String> tryGet(String path) throws InterruptedException {
    return tryGet(lb(path));
  }

  private HttpResponse<String> tryGet(URI uri) throws InterruptedException {
    try {
      return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException notYet) {
      return null;
    }
  }

  /** A key in the form new-key prints (the image test runs new-key itself). */
  private static String newKey() {
    SecureRandom random = new SecureRandom();
    StringBuilder sb = new StringBuilder("sk_live_");
    for (int i = 0; i < 12; i++) {
      sb.append(BASE62.charAt(random.nextInt(62)));
    }
    sb.append('_');
    for (int i = 0; i < 43; i++) {
      sb.append(BASE62.charAt(random.nextInt(62)));
    }
    return sb.toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
