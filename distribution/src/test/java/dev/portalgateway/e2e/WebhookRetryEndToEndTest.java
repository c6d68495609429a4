package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code examples/webhook-retry/gateway.yaml} as a user runs it: the built jar, configured only by
 * the environment variables the example names, webhook senders posting over HTTP, a real receiver
 * behind, and the {@code webhooks} command for operations. The first test is the issue's
 * acceptance test: the gateway is killed with SIGKILL again and again while webhooks arrive and
 * the service is down, and every acknowledged webhook still reaches the service with its id.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WebhookRetryEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path EXAMPLE = Path.of("../examples/webhook-retry/gateway.yaml").toAbsolutePath().normalize();
  private static final String ROUTE_LINE = "        mode: store-and-forward\n";
  private static final int WEBHOOKS = 1000;
  private static final int SENDERS = 8;

  @TempDir
  Path dir;

  // ---- the acceptance test

  @Test
  void everyAcknowledgedWebhookIsDeliveredWithItsIdThoughTheGatewayIsKilledWhileTheServiceIsDown() throws Exception {
    long started = System.nanoTime();
    long seed = Long.getLong("webhook.crash.seed", System.nanoTime());
    String why = "seed " + seed + " (repeat with -Dwebhook.crash.seed=" + seed + ")";
    System.out.println("[webhook-retry crash test] " + why);
    Random random = new Random(seed);

    // The gateway's ports are read from each start's log; the service's is reserved, and nothing
    // listens on it until the service "returns".
    int backendPort = freePort();
    Map<String, String> env = env("http://127.0.0.1:" + backendPort);
    // The example's backoff (5 s doubling to 1 h) would leave webhooks that failed while the service
    // was down waiting for minutes; the same schedule, shorter. max_attempts: the service is down
    // for the whole sending phase, and a webhook must not reach the dead-letter queue meanwhile.
    Path config = testConfig("initial_backoff: 100ms", "max_backoff: 1s", "poll_interval: 100ms", "max_attempts: 1000");

    byte[][] bodies = new byte[WEBHOOKS][];
    for (int n = 0; n < WEBHOOKS; n++) {
      bodies[n] = body(n, random);
    }
    int kills = 4 + random.nextInt(3);
    // Kill k comes after a random 100-700 ms of sending, or sooner, once a random share of the
    // webhooks (in the k-th of as many slices) is acknowledged: on a fast machine too, every kill
    // falls while webhooks are being sent.
    long[] killAfterMillis = new long[kills];
    int[] killAtAcknowledged = new int[kills];
    int slice = (WEBHOOKS - 40) / kills;
    for (int k = 0; k < kills; k++) {
      killAfterMillis[k] = 100 + random.nextInt(601);
      killAtAcknowledged[k] = 20 + k * slice + random.nextInt(slice);
    }
    double deliveredBeforeLastKill = 0.2 + 0.5 * random.nextDouble();

    Map<Integer, List<String>> acknowledged = new ConcurrentHashMap<>(); // n -> every id a 2xx gave it
    Progress progress = new Progress();
    Set<Integer> unanswered = ConcurrentHashMap.newKeySet(); // n whose post, at least once, got no answer
    List<String> oddAnswers = new CopyOnWriteArrayList<>();
    AtomicInteger posts = new AtomicInteger();
    AtomicInteger failedPosts = new AtomicInteger();
    AtomicInteger inFlight = new AtomicInteger();
    List<Integer> inFlightAtKills = new ArrayList<>();
    AtomicInteger nextN = new AtomicInteger();
    CountDownLatch allSent = new CountDownLatch(SENDERS);
    Up up = new Up();
    int run = 0;

    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
    Receiver receiver = null;
    GatewayProcess gateway = serve(run++, config, env);
    try {
      up.now(gateway);
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < SENDERS; t++) {
        running.add(senders.submit(() -> {
          try {
            for (int n; (n = nextN.getAndIncrement()) < WEBHOOKS; ) {
              long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
              while (!acknowledged.containsKey(n) && System.nanoTime() < giveUp) {
                CountDownLatch gatewayUp = up.latch;
                HttpRequest post = HttpRequest.newBuilder(up.base.resolve(n + "?n=" + n)).timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[n])).build();
                posts.incrementAndGet();
                inFlight.incrementAndGet();
                HttpResponse<String> answer;
                try {
                  answer = http.send(post, HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) { // refused, reset by the kill, timed out: not acknowledged
                  answer = null;
                } finally {
                  inFlight.decrementAndGet();
                }
                if (answer != null && answer.statusCode() / 100 == 2) {
                  String id = acknowledgedId(answer);
                  if (id == null) {
                    oddAnswers.add("n=" + n + ": " + answer.statusCode() + " " + answer.headers().map() + " "
                        + answer.body());
                  } else {
                    acknowledged.computeIfAbsent(n, k -> new CopyOnWriteArrayList<>()).add(id);
                    progress.acknowledged(acknowledged.size());
                  }
                } else {
                  // No answer, or a 5xx: the webhook may or may not have been stored; send it again.
                  failedPosts.incrementAndGet();
                  unanswered.add(n);
                  if (answer != null && answer.statusCode() / 100 != 5) {
                    oddAnswers.add("n=" + n + ": " + answer.statusCode() + " " + answer.body());
                  }
                  if (!gatewayUp.await(10, TimeUnit.SECONDS)) { // while it restarts, wait for it
                    continue;
                  }
                  if (gatewayUp == up.latch) {
                    Thread.sleep(10); // up, but refused: a short breath before trying again
                  }
                }
              }
            }
          } finally {
            allSent.countDown();
            progress.acknowledged(acknowledged.size());
          }
          return null;
        }));
      }

      // The killer: SIGKILL at seeded moments while the senders post, then the same start again.
      int[] killedAtWebhook = new int[kills];
      int done = 0;
      progress.await(1, 30_000, allSent); // the clock of the first kill starts with the first acknowledgement
      for (int k = 0; k < kills; k++) {
        progress.await(killAtAcknowledged[k], killAfterMillis[k], allSent);
        if (allSent.getCount() == 0) {
          break;
        }
        up.down();
        inFlightAtKills.add(inFlight.get());
        killedAtWebhook[k] = acknowledged.size();
        gateway.close(); // Process.destroyForcibly: SIGKILL on Linux, then waits for the exit
        gateway = serve(run++, config, env);
        up.now(gateway);
        done++;
      }
      assertThat(allSent.await(90, TimeUnit.SECONDS)).as("%s: the senders finished in 90 s", why).isTrue();
      for (Future<?> f : running) {
        f.get(); // rethrows anything unexpected in a sender
      }
      long sendingMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      System.out.printf("[webhook-retry crash test] %s: %d posts for %d webhooks (%d without a 2xx), %d kills with "
              + "%s requests in flight, with %s webhooks acknowledged; sending took %d ms%n", why, posts.get(),
          WEBHOOKS, failedPosts.get(), done, inFlightAtKills, Arrays.toString(Arrays.copyOf(killedAtWebhook, done)),
          sendingMillis);
      assertThat(oddAnswers).as("%s: answers that are neither 202 with an id nor a failure", why).isEmpty();
      assertThat(done).as("%s: kills while sending (planned %d)", why, kills).isGreaterThanOrEqualTo(3);
      assertThat(inFlightAtKills.stream().mapToInt(Integer::intValue).sum())
          .as("%s: requests in flight at the kills %s", why, inFlightAtKills).isPositive();
      assertThat(acknowledged).as("%s: every webhook acknowledged in the end (senders retry)", why).hasSize(WEBHOOKS);

      Map<String, Integer> nOfId = new HashMap<>();
      acknowledged.forEach((n, ids) -> ids.forEach(id -> nOfId.put(id, n)));
      assertThat(nOfId).as("%s: one id per acknowledgement, never one id for two webhooks", why)
          .hasSize(acknowledged.values().stream().mapToInt(List::size).sum());

      // The service returns; one more SIGKILL while the queue is being delivered.
      int killAtDelivery = Math.max(1, (int) (nOfId.size() * deliveredBeforeLastKill));
      receiver = Receiver.start(backendPort, killAtDelivery);
      boolean killedWhileDelivering = receiver.reached.await(60, TimeUnit.SECONDS);
      if (killedWhileDelivering) {
        gateway.close();
        gateway = serve(run++, config, env);
      }
      Receiver r = receiver;
      int adminPort = gateway.adminPort;
      JsonNode[] stats = new JsonNode[1];
      await(why + ": every acknowledged id delivered and the queue empty", Duration.ofSeconds(90), () -> {
        if (!r.ids().containsAll(nOfId.keySet())) {
          return false;
        }
        stats[0] = adminJson(http, adminPort, "stats").at("/routes/hooks");
        return stats[0].path("pending").asInt(-1) == 0 && stats[0].path("in_flight").asInt(-1) == 0;
      }, () -> (nOfId.size() - nOfId.keySet().stream().filter(r.ids()::contains).count()) + " acknowledged ids not "
          + "delivered yet; stats " + stats[0]);

      // What the service got.
      List<Receiver.Delivery> deliveries = List.copyOf(r.deliveries);
      Map<String, List<Receiver.Delivery>> byId = deliveries.stream()
          .collect(Collectors.groupingBy(Receiver.Delivery::id, TreeMap::new, Collectors.toList()));
      Map<Integer, Set<String>> idsOfN = new TreeMap<>();
      for (Receiver.Delivery d : deliveries) {
        assertThat(d.id()).as("%s: a delivery without X-Portal-Webhook-Id: %s", why, d).startsWith("wh_");
        assertThat(d.webhookId()).as("%s: webhook-id of %s", why, d.id()).isEqualTo(d.id());
        assertThat(d.method()).as("%s: method of %s", why, d.id()).isEqualTo("POST");
        int n = numberIn(d.body());
        assertThat(n).as("%s: %s carries a body that was sent: %s", why, d.id(),
            new String(d.body(), StandardCharsets.UTF_8)).isBetween(0, WEBHOOKS - 1);
        assertThat(d.body()).as("%s: %s delivers the body of webhook %d byte for byte", why, d.id(), n)
            .isEqualTo(bodies[n]);
        assertThat(d.path()).as("%s: path of %s", why, d.id()).isEqualTo("/e2e/" + n);
        assertThat(d.query()).as("%s: query of %s", why, d.id()).isEqualTo("n=" + n);
        idsOfN.computeIfAbsent(n, k -> new HashSet<>()).add(d.id());
        Integer acknowledgedAs = nOfId.get(d.id());
        if (acknowledgedAs != null) {
          assertThat(n).as("%s: %s was acknowledged for webhook %d", why, d.id(), acknowledgedAs)
              .isEqualTo(acknowledgedAs);
        } else {
          // Stored, but the 202 was lost to a kill or a timeout: only a webhook whose post went unanswered.
          assertThat(unanswered).as("%s: %s (webhook %d) was never acknowledged, yet no post of it went unanswered",
              why, d.id(), n).contains(n);
        }
      }
      Set<String> attempts = new HashSet<>();
      for (Map.Entry<String, List<Receiver.Delivery>> e : byId.entrySet()) {
        // Duplicates share an id: every delivery of an id is the same webhook, and no attempt goes out twice.
        assertThat(e.getValue().stream().map(d -> new String(d.body(), StandardCharsets.UTF_8)).distinct())
            .as("%s: the deliveries of %s carry one body", why, e.getKey()).hasSize(1);
        for (Receiver.Delivery d : e.getValue()) {
          assertThat(attempts.add(d.id() + "#" + d.attempt()))
              .as("%s: attempt %d of %s delivered once", why, d.attempt(), d.id()).isTrue();
        }
      }
      for (Map.Entry<String, Integer> e : nOfId.entrySet()) {
        assertThat(byId).as("%s: acknowledged id %s (webhook %d) delivered", why, e.getKey(), e.getValue())
            .containsKey(e.getKey());
      }
      JsonNode finalStats = adminJson(http, adminPort, "stats").at("/routes/hooks");
      assertThat(finalStats.path("dead").asInt()).as("%s: dead-lettered: %s", why, finalStats).isZero();
      assertThat(finalStats.path("delivered").asInt())
          .as("%s: every webhook stored is delivered, and the service got each: %s", why, finalStats)
          .isEqualTo(byId.size());

      long redelivered = byId.values().stream().filter(l -> l.size() > 1).count();
      long underTwoIds = idsOfN.values().stream().filter(s -> s.size() > 1).count();
      System.out.printf("[webhook-retry crash test] %s: acknowledged %d ids for %d webhooks; the service got %d "
              + "requests, %d distinct ids (%d never acknowledged), %d ids delivered more than once (%d duplicates), "
              + "%d webhooks under two ids; killed once more after %s deliveries; %d gateway starts; %d ms in all%n",
          why, nOfId.size(), acknowledged.size(), deliveries.size(), byId.size(), byId.size() - nOfId.size(),
          redelivered, deliveries.size() - byId.size(), underTwoIds, killedWhileDelivering ? killAtDelivery : "no", run,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      System.out.println("[webhook-retry crash test] warnings and errors the gateways logged: " + logged(run));
    } finally {
      senders.shutdownNow();
      http.shutdownNow();
      gateway.close();
      if (receiver != null) {
        receiver.close();
      }
    }
  }

  // ---- operations through the command line

  @Test
  void deadLettersAreListedShownReplayedAndPurgedWithTheCommandAndA410PausesTheRoute() throws Exception {
    try (Receiver receiver = Receiver.start(0, Integer.MAX_VALUE)) {
      receiver.status = 500;
      Map<String, String> env = env("http://127.0.0.1:" + receiver.port());
      // As on a read-only root file system: the JVM's temporary directory cannot be written. SQLite's
      // native library is unpacked into the data directory instead.
      env.put("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + dir.resolve("no-such-directory/tmp"));
      Path config = testConfig("initial_backoff: 100ms", "max_backoff: 200ms", "poll_interval: 100ms", "max_attempts: 2");
      StringBuilder commandOutput = new StringBuilder();
      Cli cli = args -> {
        List<String> all = new ArrayList<>(List.of("webhooks"));
        all.addAll(List.of(args));
        all.addAll(List.of("--config", config.toString()));
        GatewayProcess.Result r = GatewayProcess.run(dir, env, all.toArray(String[]::new));
        commandOutput.append(r.stdout()).append(r.stderr());
        return r;
      };
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      try (GatewayProcess gateway = GatewayProcess.serve(dir, config, env)) {
        String base = "http://127.0.0.1:" + gateway.port + "/peer/hooks";
        String[] bodies = {"{\"event\":\"invoice.paid\",\"amount\":42}", "{\"event\":\"push\",\"ref\":\"refs/heads/main\"}",
            "plain text, ünïcödé, and a newline\n"};
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          HttpRequest.Builder post = HttpRequest.newBuilder(URI.create(base + "/events/" + i + "?i=" + i))
              .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(bodies[i]));
          if (i == 0) {
            post.header("Authorization", "Bearer secret-xyz");
          }
          ids.add(acceptedId(http.send(post.build(), HttpResponse.BodyHandlers.ofString())));
        }

        try (var unpacked = Files.list(dir.resolve("data/plugins/webhook-retry/native"))) {
          assertThat(unpacked.map(p -> p.getFileName().toString()).toList()).anyMatch(n -> n.contains("sqlite"));
        }

        // Two attempts, each answered 500: the dead-letter queue.
        JsonNode[] dead = new JsonNode[1];
        await("the 3 webhooks listed as dead", Duration.ofSeconds(60), () -> {
          GatewayProcess.Result list = cli.run("list", "--state", "dead");
          assertThat(list.exitCode()).as(list.stderr()).isZero();
          dead[0] = JSON.readTree(list.stdout());
          return idsIn(dead[0]).containsAll(ids);
        }, () -> "listed: " + dead[0]);
        assertThat(idsIn(dead[0])).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(receiver.deliveries).hasSize(6);

        GatewayProcess.Result show = cli.run("show", ids.get(0));
        assertThat(show.exitCode()).as(show.stderr()).isZero();
        JsonNode shown = JSON.readTree(show.stdout());
        assertThat(shown.get("state").asText()).isEqualTo("dead");
        assertThat(shown.get("attempts")).hasSize(2);
        assertThat(shown.get("attempts")).extracting(a -> a.get("status").asInt()).containsExactly(500, 500);
        assertThat(shown.get("last_error").asText()).contains("HTTP 500", "gave up after 2 attempts");
        assertThat(shown.get("path").asText()).isEqualTo("/events/0");
        assertThat(shown.get("query").asText()).isEqualTo("i=0");
        assertThat(headerIn(shown, "Authorization")).isEqualTo("[redacted]");
        // The service got the header itself, on every attempt.
        assertThat(receiver.of(ids.get(0))).extracting(Receiver.Delivery::authorization).containsOnly("Bearer secret-xyz");

        for (int i = 0; i < 3; i++) {
          GatewayProcess.Result body = cli.run("body", ids.get(i));
          assertThat(body.exitCode()).as(body.stderr()).isZero();
          assertThat(body.stdout()).isEqualTo(bodies[i]);
        }

        // The service is fixed: replay from the command line; the running gateway sees it and delivers.
        receiver.status = 200;
        GatewayProcess.Result replay = cli.run("replay", "--state", "dead");
        assertThat(replay.exitCode()).as(replay.stderr()).isZero();
        assertThat(replay.stdout()).isEqualTo("{\n  \"replayed\" : 3\n}\n");
        await("the replayed webhooks delivered", Duration.ofSeconds(30),
            () -> ids.stream().allMatch(id -> receiver.of(id).stream().anyMatch(d -> d.status() == 200)),
            () -> "received: " + receiver.deliveries);
        for (int i = 0; i < 3; i++) {
          List<Receiver.Delivery> got = receiver.of(ids.get(i));
          assertThat(got).extracting(Receiver.Delivery::attempt).containsExactly(1, 2, 3);
          assertThat(new String(got.get(2).body(), StandardCharsets.UTF_8)).isEqualTo(bodies[i]);
          assertThat(got.get(2).path()).isEqualTo("/events/" + i);
          assertThat(got.get(2).query()).isEqualTo("i=" + i);
        }
        JsonNode[] delivered = new JsonNode[1];
        await("the 3 webhooks recorded as delivered", Duration.ofSeconds(30), () -> {
          delivered[0] = JSON.readTree(cli.run("list", "--state", "delivered").stdout());
          return idsIn(delivered[0]).containsAll(ids);
        }, () -> "listed: " + delivered[0]);

        GatewayProcess.Result purge = cli.run("purge", "--state", "delivered");
        assertThat(purge.exitCode()).as(purge.stderr()).isZero();
        assertThat(purge.stdout()).isEqualTo("{\n  \"purged\" : 3\n}\n");
        GatewayProcess.Result gone = cli.run("show", ids.get(0));
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.stderr()).contains("no webhook has the id '" + ids.get(0) + "'");
        assertThat(cli.run("body", ids.get(1)).exitCode()).isEqualTo(1);

        GatewayProcess.Result vague = cli.run("replay");
        assertThat(vague.exitCode()).isEqualTo(2);
        assertThat(vague.stderr()).contains("say which webhooks");
        GatewayProcess.Result bogus = cli.run("bogus");
        assertThat(bogus.exitCode()).isEqualTo(2);
        assertThat(bogus.stderr()).contains("unknown action 'bogus'");
        GatewayProcess.Result badState = cli.run("list", "--state", "lost");
        assertThat(badState.exitCode()).isEqualTo(2);
        assertThat(badState.stderr()).contains("not 'lost'");

        // 410 Gone stops delivery to the route until an operator resumes it.
        receiver.status = 410;
        String first = acceptedId(http.send(HttpRequest.newBuilder(URI.create(base + "/gone/1"))
            .POST(HttpRequest.BodyPublishers.ofString("g1")).build(), HttpResponse.BodyHandlers.ofString()));
        JsonNode[] route = new JsonNode[1];
        await("the route paused", Duration.ofSeconds(30), () -> {
          GatewayProcess.Result stats = cli.run("stats");
          assertThat(stats.exitCode()).as(stats.stderr()).isZero();
          route[0] = JSON.readTree(stats.stdout()).at("/routes/hooks");
          return !route[0].path("paused").isNull() && !route[0].path("paused").isMissingNode();
        }, () -> "stats: " + route[0]);
        assertThat(route[0].get("paused").asText()).contains("410 Gone", first);
        String second = acceptedId(http.send(HttpRequest.newBuilder(URI.create(base + "/gone/2"))
            .POST(HttpRequest.BodyPublishers.ofString("g2")).build(), HttpResponse.BodyHandlers.ofString()));
        GatewayProcess.Result pending = cli.run("list", "--state", "pending");
        assertThat(idsIn(JSON.readTree(pending.stdout()))).containsExactlyInAnyOrder(first, second);
        assertThat(receiver.of(first)).hasSize(1);
        assertThat(receiver.of(second)).as("nothing goes to a paused route").isEmpty();

        receiver.status = 204;
        GatewayProcess.Result resume = cli.run("resume", "hooks");
        assertThat(resume.exitCode()).as(resume.stderr()).isZero();
        JsonNode resumed = JSON.readTree(resume.stdout());
        assertThat(resumed.get("route").asText()).isEqualTo("hooks");
        assertThat(resumed.get("resumed").asBoolean()).as(resume.stdout()).isTrue();
        await("the paused webhooks delivered after the resume", Duration.ofSeconds(30),
            () -> receiver.of(first).size() == 2 && receiver.of(second).size() == 1, () -> "received: " + receiver.deliveries);
        assertThat(receiver.of(first)).extracting(Receiver.Delivery::attempt).containsExactly(1, 2);
        assertThat(new String(receiver.of(second).get(0).body(), StandardCharsets.UTF_8)).isEqualTo("g2");
        JsonNode[] after = new JsonNode[1];
        await("the route resumed and empty", Duration.ofSeconds(30), () -> {
          after[0] = JSON.readTree(cli.run("stats").stdout()).at("/routes/hooks");
          return after[0].path("paused").isNull() && after[0].path("pending").asInt(-1) == 0
              && after[0].path("in_flight").asInt(-1) == 0;
        }, () -> "stats: " + after[0]);
        assertThat(after[0].get("delivered").asInt()).isEqualTo(2);

        assertThat(commandOutput.toString()).as("what the commands printed").doesNotContain("secret-xyz");
        assertThat(gateway.stdout() + gateway.stderr()).as("the gateway's log").doesNotContain("secret-xyz");
      } finally {
        http.shutdownNow();
      }
    }
  }

  // ---- helpers

  @FunctionalInterface
  private interface Cli {
    GatewayProcess.Result run(String... args) throws Exception;
  }

  @FunctionalInterface
  private interface Condition {
    boolean holds() throws Exception;
  }

  @FunctionalInterface
  private interface Describe {
    String now() throws Exception;
  }

  /** Polls the condition until it holds, or fails after the limit, saying what was seen. */
  private static void await(String what, Duration limit, Condition condition, Describe seen) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + limit.toSeconds() + " s for " + what + "; " + seen.now());
      }
      Thread.sleep(100);
    }
  }

  /** How many webhooks are acknowledged, for the killer to wait on. */
  private static final class Progress {
    private int acknowledged;

    synchronized void acknowledged(int count) {
      acknowledged = Math.max(acknowledged, count);
      notifyAll();
    }

    /** Waits until {@code count} are acknowledged, the senders are done, or the time is up. */
    synchronized void await(int count, long millis, CountDownLatch allSent) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      for (long left = millis; acknowledged < count && allSent.getCount() > 0 && left > 0;
          left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())) {
        wait(left);
      }
    }
  }

  /** Where the gateway is, and whether the senders may try again. */
  private static final class Up {
    volatile CountDownLatch latch = new CountDownLatch(1);
    volatile URI base;

    void down() {
      latch = new CountDownLatch(1);
    }

    void now(GatewayProcess gateway) {
      base = URI.create("http://127.0.0.1:" + gateway.port + "/peer/hooks/e2e/");
      latch.countDown();
    }
  }

  private GatewayProcess serve(int run, Path config, Map<String, String> env) throws Exception {
    Path workDir = Files.createDirectories(dir.resolve("run-" + run)); // each run's log kept apart
    return GatewayProcess.serve(workDir, config, env);
  }

  /** How often each WARNING and ERROR message appears in the logs of the runs so far. */
  private Map<String, Long> logged(int runs) throws IOException {
    Map<String, Long> counts = new TreeMap<>();
    for (int r = 0; r < runs; r++) {
      for (String name : List.of("gateway.stdout", "gateway.stderr")) {
        Path log = dir.resolve("run-" + r).resolve(name);
        if (!Files.exists(log)) {
          continue;
        }
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          if (line.startsWith("{") && (line.contains("\"level\":\"ERROR\"") || line.contains("\"level\":\"WARNING\""))) {
            try {
              JsonNode json = JSON.readTree(line);
              counts.merge(json.path("level").asText() + " " + json.path("msg").asText(), 1L, Long::sum);
            } catch (IOException cutShortByTheKill) {
              counts.merge("(a line cut short)", 1L, Long::sum);
            }
          } else if (name.endsWith("stderr") && !line.startsWith("WARNING:") && !line.isBlank()) {
            counts.merge("stderr: " + line, 1L, Long::sum);
          }
        }
      }
    }
    return counts;
  }

  /** A loopback port free now, for the service to come up on later. */
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The example's variables, and nothing else; the gateway's ports are chosen at each start. */
  private Map<String, String> env(String backend) {
    Map<String, String> env = new HashMap<>();
    env.put("GATEWAY_LISTEN", "127.0.0.1:0");
    env.put("GATEWAY_ADMIN_LISTEN", "127.0.0.1:0");
    env.put("GATEWAY_PLUGINS_DIR", GatewayProcess.DIST.resolve("plugins").toString());
    env.put("GATEWAY_DATA_DIR", dir.resolve("data").toString());
    env.put("BACKEND_URL", backend);
    return env;
  }

  /** The example, with these keys added to the hooks route's settings. */
  private Path testConfig(String... routeKeys) throws IOException {
    String example = Files.readString(EXAMPLE);
    assertThat(example).as("the example's hooks route").contains(ROUTE_LINE);
    StringBuilder keys = new StringBuilder(ROUTE_LINE);
    for (String k : routeKeys) {
      keys.append("        ").append(k).append('\n');
    }
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, example.replace(ROUTE_LINE, keys));
    return config;
  }

  /**
   * Webhook {@code n}'s body: JSON with its number and padding of a seeded length (0 to 4 KiB),
   * some of it outside ASCII, so that sizes vary and bytes must arrive as sent.
   */
  private static byte[] body(int n, Random random) {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -_.éü€漢";
    StringBuilder pad = new StringBuilder();
    int length = random.nextInt(4) == 0 ? random.nextInt(16) : random.nextInt(4096);
    for (int i = 0; i < length; i++) {
      pad.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return ("{\"n\":" + n + ",\"pad\":\"" + pad + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static int numberIn(byte[] body) {
    try {
      JsonNode json = JSON.readTree(body);
      return json.path("n").isInt() ? json.get("n").asInt() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** The id of a 2xx answer, or null when it is not 202 {"id":..., "status":"queued"} with the id header. */
  private static String acknowledgedId(HttpResponse<String> answer) {
    try {
      JsonNode json = JSON.readTree(answer.body());
      String id = json.path("id").asText("");
      boolean ok = answer.statusCode() == 202 && id.startsWith("wh_") && json.path("status").asText().equals("queued")
          && answer.headers().firstValue("X-Portal-Webhook-Id").orElse("").equals(id);
      return ok ? id : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String acceptedId(HttpResponse<String> answer) {
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    String id = acknowledgedId(answer);
    assertThat(id).as("202 %s %s", answer.headers().map(), answer.body()).isNotNull();
    return id;
  }

  private static Set<String> idsIn(JsonNode list) {
    Set<String> ids = new HashSet<>();
    list.path("webhooks").forEach(w -> ids.add(w.path("id").asText()));
    return ids;
  }

  private static String headerIn(JsonNode shown, String name) {
    for (Map.Entry<String, JsonNode> e : shown.path("headers").properties()) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue().asText();
      }
    }
    return null;
  }

  private static JsonNode adminJson(HttpClient http, int adminPort, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + adminPort + "/plugins/webhook-retry/" + path)).timeout(Duration.ofSeconds(10))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /**
   * The service the webhooks are for: the JDK's HTTP server on a given loopback port, recording
   * every request and answering with the status the test sets.
   */
  static final class Receiver implements AutoCloseable {
    record Delivery(String id, String webhookId, int attempt, String method, String path, String query,
        String authorization, byte[] body, int status) {
      @Override
      public String toString() {
        return id + "#" + attempt + " " + method + " " + path + " -> " + status;
      }
    }

    final ConcurrentLinkedQueue<Delivery> deliveries = new ConcurrentLinkedQueue<>();
    /** Counted down when the service has got {@code threshold} requests. */
    final CountDownLatch reached = new CountDownLatch(1);
    volatile int status = 200;
    private final Set<String> ids = ConcurrentHashMap.newKeySet();
    private final AtomicInteger count = new AtomicInteger();
    private final int threshold;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(16);

    private Receiver(int port, int threshold) throws IOException {
      this.threshold = threshold;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 100);
      server.setExecutor(threads);
      server.createContext("/", ex -> {
        try (ex) {
          byte[] body = ex.getRequestBody().readAllBytes();
          String attempt = ex.getRequestHeaders().getFirst("X-Portal-Webhook-Attempt");
          int answer = status;
          Delivery d = new Delivery(String.valueOf(ex.getRequestHeaders().getFirst("X-Portal-Webhook-Id")),
              ex.getRequestHeaders().getFirst("webhook-id"), attempt == null ? -1 : Integer.parseInt(attempt),
              ex.getRequestMethod(), ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery(),
              ex.getRequestHeaders().getFirst("Authorization"), body, answer);
          deliveries.add(d);
          if (answer / 100 == 2) {
            ids.add(d.id());
          }
          if (count.incrementAndGet() == threshold) {
            reached.countDown();
          }
          byte[] out = ("answer " + answer).getBytes(StandardCharsets.UTF_8);
          if (answer == 204) {
            ex.sendResponseHeaders(204, -1);
          } else {
            ex.sendResponseHeaders(answer, out.length);
            ex.getResponseBody().write(out);
          }
        }
      });
      server.start();
    }

    static Receiver start(int port, int threshold) throws IOException {
      return new Receiver(port, threshold);
    }

    int port() {
      return server.getAddress().getPort();
    }

    /** @return the ids delivered with a 2xx answer */
    Set<String> ids() {
      return ids;
    }

    List<Delivery> of(String id) {
      return deliveries.stream().filter(d -> d.id().equals(id)).toList();
    }

    @Override
    public void close() {
      server.stop(0);
      threads.shutdownNow();
    }
  }
}
