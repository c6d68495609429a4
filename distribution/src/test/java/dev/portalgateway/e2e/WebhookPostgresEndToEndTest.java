package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.plugins.webhook.PostgresServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of the PostgreSQL store (docs/plugins/webhook-retry.md): two gateways, the
 * built jar twice, each with its own data directory and ports and the same configuration, share one
 * queue in a real PostgreSQL server that the test starts. 1,000 webhooks are posted to either
 * gateway while a seeded killer sends SIGKILL to one gateway or the other four to six times (and
 * starts it again), and crashes PostgreSQL once (immediate shutdown) and starts it again. The
 * service is up throughout, answers slowly (0-50 ms) and with 503 to some first attempts, so both
 * gateways deliver, with attempts overlapping in time, while they are killed. Every acknowledged
 * webhook reaches the service with its body, no webhook is ever in two attempts at once (the
 * replicas' claims exclude each other, and a dead replica's claim runs out before the other sends
 * the next attempt), and no attempt number of a webhook goes out twice.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WebhookPostgresEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TAG = "[webhook-pg e2e] ";
  private static final int WEBHOOKS = 1000;
  private static final int SENDERS = 8;
  private static final Pattern DELIVERED_METRIC = Pattern.compile(
      "(?m)^portal_gateway_webhook_retry_attempts_total\\{route=\"hooks\",outcome=\"delivered\",?} (\\S+)$");

  @TempDir
  Path dir;

  @Test
  void twoGatewaysOnOnePostgresDeliverEveryAcknowledgedWebhookThoughKilledAndThoughTheDatabaseCrashes() throws Exception {
    long started = System.nanoTime();
    long seed = Long.getLong("webhook.pg.seed", System.nanoTime());
    String why = "seed " + seed + " (repeat with -Dwebhook.pg.seed=" + seed + ")";
    System.out.println(TAG + why);
    Random random = new Random(seed);

    byte[][] bodies = new byte[WEBHOOKS][];
    long[] pauseBefore = new long[WEBHOOKS];
    for (int n = 0; n < WEBHOOKS; n++) {
      bodies[n] = body(n, random);
      // The senders space their webhooks (0-300 ms each, 8 senders): sending lasts long enough for
      // every kill and the database crash to fall in it, on a fast machine too.
      pauseBefore[n] = random.nextInt(301);
    }

    // The plan: 4-6 kills of a seeded gateway, and one database crash after a seeded kill. Event i
    // comes a seeded 300-1500 ms after the previous one is over, or sooner once a seeded share of
    // the webhooks (in the i-th of as many slices) is acknowledged, so that they fall while webhooks
    // are being sent, on a fast machine too (the test checks the crash and at least three kills did;
    // a kill after the last webhook is sent still falls among deliveries).
    int kills = 4 + random.nextInt(3);
    int crashAfterKill = 1 + random.nextInt(kills - 1); // mid-run: after kill 1 .. kills-1
    List<Event> plan = new ArrayList<>();
    int events = kills + 1;
    int slice = (WEBHOOKS - 100) / events;
    for (int i = 0, k = 0; i < events; i++) {
      boolean crash = i == crashAfterKill;
      int replica = crash ? -1 : random.nextInt(2);
      long downMillis = crash ? 500 + random.nextInt(1501) : 0;
      plan.add(new Event(crash ? "postgres" : "kill " + (++k), replica, 300 + random.nextInt(1201),
          30 + i * slice + random.nextInt(slice), downMillis));
    }
    System.out.println(TAG + why + ": plan " + plan);

    PostgresServer postgres = PostgresServer.start();
    Receiver receiver = Receiver.start(seed);
    String dbUrl = postgres.createDatabase("webhooks_e2e");
    Path config = writeConfig(dbUrl, receiver.port());
    Replica[] replicas = {new Replica("a", config), new Replica("b", config)};

    Map<Integer, List<String>> acknowledged = new ConcurrentHashMap<>(); // n -> every id a 202 gave it
    Set<Integer> unanswered = ConcurrentHashMap.newKeySet(); // n whose post, at least once, got no 202
    List<String> oddAnswers = new CopyOnWriteArrayList<>();
    AtomicInteger posts = new AtomicInteger();
    AtomicInteger noAnswer = new AtomicInteger();
    AtomicInteger storeUnavailable = new AtomicInteger(); // 503 webhook-store-unavailable
    AtomicInteger storeUnavailableWhileUp = new AtomicInteger(); // ... outside the database's outage
    AtomicInteger senderInFlight = new AtomicInteger();
    AtomicInteger nextN = new AtomicInteger();
    Progress progress = new Progress();
    CountDownLatch allSent = new CountDownLatch(SENDERS);
    // From the crash until a few seconds after the database is back (the pools reconnect), 503s are expected.
    AtomicLong outageFrom = new AtomicLong(Long.MAX_VALUE);
    AtomicLong outageUntil = new AtomicLong(Long.MAX_VALUE);
    List<String> happened = new ArrayList<>();
    AtomicInteger killsWhileSending = new AtomicInteger();
    AtomicInteger crashesWhileSending = new AtomicInteger();

    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
    try {
      for (Replica r : replicas) {
        r.start();
      }
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < SENDERS; t++) {
        running.add(senders.submit(() -> {
          try {
            for (int n; (n = nextN.getAndIncrement()) < WEBHOOKS; ) {
              Thread.sleep(pauseBefore[n]);
              int turn = n % 2; // alternate between the gateways; after a failure, the other one
              long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
              while (!acknowledged.containsKey(n) && System.nanoTime() < giveUp) {
                Replica r = replicas[turn++ % 2];
                URI base = r.base;
                if (base == null) { // being restarted: the other one
                  r = replicas[turn++ % 2];
                  base = r.base;
                  if (base == null) {
                    Thread.sleep(20);
                    continue;
                  }
                }
                HttpRequest post = HttpRequest.newBuilder(base.resolve(n + "?n=" + n)).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[n])).build();
                posts.incrementAndGet();
                senderInFlight.incrementAndGet();
                HttpResponse<String> answer;
                try {
                  answer = http.send(post, HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) { // refused, reset by a kill, timed out: not acknowledged
                  answer = null;
                } finally {
                  senderInFlight.decrementAndGet();
                }
                String id = answer == null ? null : acknowledgedId(answer);
                if (id != null) {
                  acknowledged.computeIfAbsent(n, k -> new CopyOnWriteArrayList<>()).add(id);
                  progress.acknowledged(acknowledged.size());
                  continue;
                }
                // Not acknowledged: the webhook may or may not be stored (a commit whose answer was
                // lost); it is sent again, and may end up under two ids.
                unanswered.add(n);
                if (answer == null) {
                  noAnswer.incrementAndGet();
                } else if (answer.statusCode() == 503 && answer.body().contains("webhook-store-unavailable")) {
                  storeUnavailable.incrementAndGet();
                  long now = System.nanoTime();
                  if (now < outageFrom.get() || now > outageUntil.get()) {
                    storeUnavailableWhileUp.incrementAndGet();
                    oddAnswers.add("n=" + n + " at gateway " + r.name + " while the database was up: 503 " + answer.body());
                  }
                } else {
                  oddAnswers.add("n=" + n + " at gateway " + r.name + ": " + answer.statusCode() + " "
                      + answer.headers().map() + " " + answer.body());
                }
                Thread.sleep(10); // a short breath before the other gateway
              }
            }
          } finally {
            allSent.countDown();
            progress.acknowledged(acknowledged.size());
          }
          return null;
        }));
      }

      // The killer, and the database's crash: one event after the other, as planned.
      progress.await(1, 30_000, allSent); // the clock starts with the first acknowledgement
      for (Event e : plan) {
        progress.await(e.atAcknowledged(), e.afterMillis(), allSent);
        String when = String.format("%s at %d ms, %d acknowledged%s, %d posts and %d deliveries in flight", e.name(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), acknowledged.size(),
            allSent.getCount() == 0 ? " (all sent)" : "", senderInFlight.get(), receiver.inFlight.get());
        if (e.replica() < 0) {
          outageFrom.set(System.nanoTime());
          postgres.crash(); // immediate shutdown: no checkpoint, recovery at the next start
          Thread.sleep(e.downMillis()); // the seeded outage
          postgres.startAgain();
          outageUntil.set(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
          when += ", down " + e.downMillis() + " ms";
        } else {
          Replica r = replicas[e.replica()];
          when += ", gateway " + r.name + " (run " + (r.runs - 1) + ")";
          r.kill(http);
          r.start();
        }
        happened.add(when);
        if (allSent.getCount() > 0) {
          (e.replica() < 0 ? crashesWhileSending : killsWhileSending).incrementAndGet();
        }
        System.out.println(TAG + why + ": " + when);
      }
      assertThat(allSent.await(120, TimeUnit.SECONDS)).as("%s: the senders finished in 120 s", why).isTrue();
      for (Future<?> f : running) {
        f.get(); // rethrows anything unexpected in a sender
      }
      long sendingMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      System.out.printf(TAG + "%s: %d posts for %d webhooks: %d acknowledged, %d without an answer, %d answered 503 "
              + "webhook-store-unavailable (%d while the database was up); sending took %d ms%n", why, posts.get(),
          WEBHOOKS, acknowledged.size(), noAnswer.get(), storeUnavailable.get(), storeUnavailableWhileUp.get(),
          sendingMillis);
      assertThat(oddAnswers).as("%s: answers that are neither 202 with an id, nor 503 webhook-store-unavailable "
          + "during the database's outage, nor none at all", why).isEmpty();
      // Kills after the last webhook was sent still fall among deliveries; the crash must meet accepts.
      assertThat(crashesWhileSending.get()).as("%s: the database crashed while webhooks were sent: %s", why, happened)
          .isOne();
      assertThat(killsWhileSending.get()).as("%s: kills while webhooks were sent: %s", why, happened)
          .isGreaterThanOrEqualTo(3);
      assertThat(storeUnavailable.get()).as("%s: accepts answered 503 while the database was down", why).isPositive();
      assertThat(acknowledged).as("%s: every webhook acknowledged in the end (senders retry)", why).hasSize(WEBHOOKS);

      Map<String, Integer> nOfId = new HashMap<>();
      acknowledged.forEach((n, ids) -> ids.forEach(id -> nOfId.put(id, n)));
      assertThat(nOfId).as("%s: one id per acknowledgement, never one id for two webhooks", why)
          .hasSize(acknowledged.values().stream().mapToInt(List::size).sum());

      // Every acknowledged id delivered, and the shared queue empty: claims a killed gateway left
      // ran out (attempt_timeout 2 s + 30 s) and the webhooks went out again.
      JsonNode[] stats = new JsonNode[1];
      await(why + ": every acknowledged id delivered and the queue empty", Duration.ofSeconds(120), () -> {
        if (!receiver.ids().containsAll(nOfId.keySet())) {
          return false;
        }
        stats[0] = adminJson(http, replicas[0].process.adminPort, "stats").at("/routes/hooks");
        return stats[0].path("pending").asInt(-1) == 0 && stats[0].path("in_flight").asInt(-1) == 0;
      }, () -> (nOfId.size() - nOfId.keySet().stream().filter(receiver.ids()::contains).count())
          + " acknowledged ids not delivered yet; stats " + stats[0]);
      long drainedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

      // What the service got.
      List<Receiver.Delivery> deliveries = List.copyOf(receiver.deliveries);
      Map<String, List<Receiver.Delivery>> byId = deliveries.stream()
          .collect(Collectors.groupingBy(Receiver.Delivery::id, TreeMap::new, Collectors.toList()));
      Map<Integer, Set<String>> idsOfN = new TreeMap<>();
      for (Receiver.Delivery d : deliveries) {
        assertThat(d.id()).as("%s: a delivery without X-Portal-Webhook-Id: %s", why, d).startsWith("wh_");
        int n = numberIn(d.body());
        assertThat(n).as("%s: %s carries a body that was sent: %s", why, d,
            new String(d.body(), StandardCharsets.UTF_8)).isBetween(0, WEBHOOKS - 1);
        assertThat(d.body()).as("%s: %s delivers the body of webhook %d byte for byte", why, d, n).isEqualTo(bodies[n]);
        assertThat(d.path()).as("%s: path of %s", why, d).isEqualTo("/e2e/" + n);
        assertThat(d.query()).as("%s: query of %s", why, d).isEqualTo("n=" + n);
        idsOfN.computeIfAbsent(n, k -> new HashSet<>()).add(d.id());
        Integer acknowledgedAs = nOfId.get(d.id());
        if (acknowledgedAs != null) {
          assertThat(n).as("%s: %s was acknowledged for webhook %d", why, d.id(), acknowledgedAs).isEqualTo(acknowledgedAs);
        } else {
          // Stored, but its 202 was lost to a kill, a timeout or the database's crash.
          assertThat(unanswered).as("%s: %s (webhook %d) was never acknowledged, yet every post of it was", why,
              d.id(), n).contains(n);
        }
      }
      for (Map.Entry<String, Integer> e : nOfId.entrySet()) {
        List<Receiver.Delivery> got = byId.getOrDefault(e.getKey(), List.of());
        assertThat(got).as("%s: acknowledged id %s (webhook %d) delivered with a 2xx", why, e.getKey(), e.getValue())
            .anyMatch(d -> d.status() / 100 == 2);
      }
      // No attempt delivered by both replicas at once: never two requests of one webhook in progress
      // together at the service, and no attempt number twice.
      assertThat(receiver.overlaps).as("%s: requests of one webhook in progress at once (id#attempt)", why).isEmpty();
      List<String> overlapping = new ArrayList<>();
      for (Map.Entry<String, List<Receiver.Request>> e : receiver.requestsById().entrySet()) {
        List<Receiver.Request> rs = new ArrayList<>(e.getValue());
        rs.sort(Comparator.comparingLong(Receiver.Request::startNanos));
        for (int i = 1; i < rs.size(); i++) {
          if (rs.get(i).startNanos() < rs.get(i - 1).endNanos()) {
            overlapping.add(rs.get(i - 1) + " / " + rs.get(i));
          }
        }
      }
      assertThat(overlapping).as("%s: requests of one webhook whose times overlap", why).isEmpty();
      Map<String, Long> attemptCounts = receiver.requests.stream()
          .collect(Collectors.groupingBy(r -> r.id() + "#" + r.attempt(), TreeMap::new, Collectors.counting()));
      assertThat(attemptCounts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList())
          .as("%s: attempts that reached the service more than once", why).isEmpty();

      JsonNode finalStats = adminJson(http, replicas[1].process.adminPort, "stats").at("/routes/hooks");
      long deliveredIds = byId.values().stream().filter(l -> l.stream().anyMatch(d -> d.status() / 100 == 2)).count();
      assertThat(finalStats.path("dead").asInt()).as("%s: dead-lettered: %s", why, finalStats).isZero();
      assertThat(finalStats.path("delivered").asInt())
          .as("%s: every webhook stored is delivered, and the service got each: %s", why, finalStats)
          .isEqualTo((int) deliveredIds);

      // Both replicas delivered: the queue is shared, not split (the counters of every run of each).
      long[] deliveredBy = new long[2];
      for (int i = 0; i < 2; i++) {
        deliveredBy[i] = replicas[i].deliveredByEarlierRuns + deliveredMetric(http, replicas[i].process.adminPort);
      }
      assertThat(deliveredBy[0]).as("%s: deliveries counted by gateway a's runs", why).isPositive();
      assertThat(deliveredBy[1]).as("%s: deliveries counted by gateway b's runs", why).isPositive();

      // Which gateway sent which attempt, as their logs tell (an attempt cut short by a kill is not logged).
      Map<String, String> sentBy = new HashMap<>();
      long[] released = new long[2];
      for (int i = 0; i < 2; i++) {
        released[i] = replicas[i].attemptsIn(sentBy);
      }
      assertThat(sentBy.entrySet().stream().filter(e -> e.getValue().contains(" and ")).map(Object::toString).toList())
          .as("%s: attempts that two gateways (or two runs of one) logged", why).isEmpty();
      long byBoth = byId.keySet().stream().filter(id -> byId.get(id).stream().map(d -> sentBy.get(d.id() + "#" + d.attempt()))
          .filter(java.util.Objects::nonNull).map(run -> run.substring(0, 1)).distinct().count() > 1).count();
      long ok = deliveries.stream().filter(d -> d.status() / 100 == 2).count();
      long redelivered = byId.values().stream().filter(l -> l.stream().filter(d -> d.status() / 100 == 2).count() > 1)
          .count();
      long underTwoIds = idsOfN.values().stream().filter(s -> s.size() > 1).count();
      System.out.printf(TAG + "%s: acknowledged %d ids for %d webhooks; the service got %d requests (%d answered 2xx, "
              + "%d 503, %d cut short), %d distinct ids delivered (%d never acknowledged), %d ids delivered more than "
              + "once (%d duplicate 2xx), %d webhooks under two ids, at most %d requests at once; deliveries counted "
              + "by gateway a %d, by b %d; claims left by killed gateways and queued again: %d by a, %d by b; %d ids "
              + "with attempts from both gateways; queue drained at %d ms, %d ms in all%n",
          why, nOfId.size(), acknowledged.size(), deliveries.size() + receiver.cutShort.get(), ok,
          deliveries.size() - ok, receiver.cutShort.get(), deliveredIds,
          deliveredIds - nOfId.keySet().stream().filter(byId::containsKey).count(), redelivered, ok - deliveredIds,
          underTwoIds, receiver.mostInFlight.get(), deliveredBy[0], deliveredBy[1], released[0], released[1], byBoth,
          drainedMillis,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      for (Replica r : replicas) {
        System.out.println(TAG + "warnings and errors gateway " + r.name + " logged in " + r.runs + " runs: " + r.logged());
      }
    } finally {
      senders.shutdownNow();
      http.shutdownNow();
      for (Replica r : replicas) {
        r.close();
      }
      receiver.close();
      postgres.close();
    }
  }

  // ---- helpers

  /**
   * A planned event: a kill of gateway {@code replica} (0 or 1), or, when it is -1, a crash of the
   * database for {@code downMillis}; it comes {@code afterMillis} after the previous one, or once
   * {@code atAcknowledged} webhooks are acknowledged, whichever is first.
   */
  private record Event(String name, int replica, long afterMillis, int atAcknowledged, long downMillis) {
    @Override
    public String toString() {
      return name + (replica < 0 ? " down " + downMillis + " ms" : " of gateway " + (replica == 0 ? "a" : "b"))
          + " after " + afterMillis + " ms or at " + atAcknowledged + " acknowledged";
    }
  }

  /** One gateway: the built jar with the shared configuration, its own data directory, a log per run. */
  private final class Replica implements AutoCloseable {
    final String name;
    final Path config;
    final Map<String, String> env = new HashMap<>();
    volatile GatewayProcess process;
    volatile URI base; // null while it is down
    int runs;
    long deliveredByEarlierRuns;

    Replica(String name, Path config) {
      this.name = name;
      this.config = config;
      env.put("GATEWAY_LISTEN", "127.0.0.1:0");
      env.put("GATEWAY_ADMIN_LISTEN", "127.0.0.1:0");
      env.put("GATEWAY_PLUGINS_DIR", GatewayProcess.DIST.resolve("plugins").toString());
      env.put("GATEWAY_DATA_DIR", dir.resolve("data-" + name).toString());
    }

    void start() throws Exception {
      Path workDir = Files.createDirectories(dir.resolve(name + "-run-" + runs++));
      process = GatewayProcess.serve(workDir, config, env);
      base = URI.create("http://127.0.0.1:" + process.port + "/peer/hooks/e2e/");
    }

    /** SIGKILL, after reading how many deliveries this run counted (a lower bound: it goes on until the kill). */
    void kill(HttpClient http) throws Exception {
      base = null;
      deliveredByEarlierRuns += deliveredMetric(http, process.adminPort);
      process.close(); // Process.destroyForcibly: SIGKILL on Linux, then waits for the exit
    }

    /**
     * Reads this gateway's logs: puts {@code id#attempt -> name-run-N} for every attempt it logged
     * (joined with " and " should two runs, or two gateways, log one attempt).
     *
     * @return how many webhooks it queued again because their claims ran out
     */
    long attemptsIn(Map<String, String> sentBy) throws IOException {
      long released = 0;
      for (int r = 0; r < runs; r++) {
        for (String line : lines(dir.resolve(name + "-run-" + r).resolve("gateway.stdout"))) {
          if (!line.startsWith("{") || !line.contains("webhook")) {
            continue;
          }
          JsonNode json;
          try {
            json = JSON.readTree(line);
          } catch (IOException cutShortByTheKill) {
            continue;
          }
          String msg = json.path("msg").asText();
          if (msg.equals("webhook delivery attempt")) {
            sentBy.merge(json.path("webhook_id").asText() + "#" + json.path("attempt").asInt(), name + "-run-" + r,
                (x, y) -> x + " and " + y);
          } else if (msg.equals("webhook attempts that never finished are queued again")) {
            released += json.path("webhooks").asLong();
          }
        }
      }
      return released;
    }

    /** How often each WARNING and ERROR message appears in the logs of this gateway's runs. */
    Map<String, Long> logged() throws IOException {
      Map<String, Long> counts = new TreeMap<>();
      for (int r = 0; r < runs; r++) {
        for (String file : List.of("gateway.stdout", "gateway.stderr")) {
          Path log = dir.resolve(name + "-run-" + r).resolve(file);
          if (!Files.exists(log)) {
            continue;
          }
          for (String line : lines(log)) {
            if (line.startsWith("{") && (line.contains("\"level\":\"ERROR\"") || line.contains("\"level\":\"WARNING\""))) {
              try {
                JsonNode json = JSON.readTree(line);
                counts.merge(json.path("level").asText() + " " + json.path("msg").asText(), 1L, Long::sum);
              } catch (IOException cutShortByTheKill) {
                counts.merge("(a line cut short)", 1L, Long::sum);
              }
            } else if (file.endsWith("stderr") && !line.startsWith("WARNING:") && !line.isBlank()) {
              counts.merge("stderr: " + line, 1L, Long::sum);
            }
          }
        }
      }
      return counts;
    }

    @Override
    public void close() throws InterruptedException {
      if (process != null) {
        process.close();
      }
    }
  }

  /** A log's lines; a kill may have cut the last one short, even inside a character. */
  private static List<String> lines(Path log) throws IOException {
    return new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
  }

  /**
   * The configuration both gateways run: the example's shape (plugin off but for route
   * {@code hooks}), the PostgreSQL store, and a short backoff. Ports and the data directory come
   * from the environment, different for each gateway.
   */
  private Path writeConfig(String dbUrl, int servicePort) throws IOException {
    String yaml = """
        server:
          listen: "${GATEWAY_LISTEN}"
          admin_listen: "${GATEWAY_ADMIN_LISTEN}"
          plugins_dir: "${GATEWAY_PLUGINS_DIR}"
          data_dir: "${GATEWAY_DATA_DIR}"

        relay:
          enabled: false

        upstreams:
          hooks: "http://127.0.0.1:%d"

        plugins:
          webhook-retry:
            enabled: false
            store: postgres
            postgres: { url: "%s", user: %s, connect_timeout: 1s }
            initial_backoff: 100ms
            max_backoff: 1s
            poll_interval: 100ms
            max_attempts: 1000
            attempt_timeout: 2s
            # The route's concurrency counts the attempts of both gateways, and a killed gateway's
            # claims hold their slots until they run out (32 s): enough slots that the other goes on.
            concurrency: 16
            routes:
              hooks:
                mode: store-and-forward
        """.formatted(servicePort, dbUrl, PostgresServer.USER);
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, yaml);
    return config;
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

  /** The gateway's count of attempts the service answered with 2xx, since it started; 0 before the first. */
  private static long deliveredMetric(HttpClient http, int adminPort) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET /metrics").isEqualTo(200);
    Matcher m = DELIVERED_METRIC.matcher(r.body());
    return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
  }

  private static JsonNode adminJson(HttpClient http, int adminPort, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + adminPort + "/plugins/webhook-retry/" + path)).timeout(Duration.ofSeconds(10))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
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
    if (answer.statusCode() != 202) {
      return null;
    }
    try {
      JsonNode json = JSON.readTree(answer.body());
      String id = json.path("id").asText("");
      boolean ok = id.startsWith("wh_") && json.path("status").asText().equals("queued")
          && answer.headers().firstValue("X-Portal-Webhook-Id").orElse("").equals(id);
      return ok ? id : null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The service the webhooks are for, up for the whole run: the JDK's HTTP server on a loopback
   * port. It answers after a seeded 0-50 ms, with 503 to a seeded quarter of first attempts, and
   * records every request with when it began and ended, counting the requests of one webhook in
   * progress at once.
   */
  static final class Receiver implements AutoCloseable {
    /** A request whose body arrived whole, and the status it was answered with. */
    record Delivery(String id, int attempt, String path, String query, byte[] body, int status) {
      @Override
      public String toString() {
        return id + "#" + attempt + " " + path + " -> " + status;
      }
    }

    /** Any request, whole or cut short: from its arrival until the answer is decided, before it is sent. */
    record Request(String id, int attempt, long startNanos, long endNanos) {
      @Override
      public String toString() {
        return id + "#" + attempt + " [" + startNanos + ", " + endNanos + "]";
      }
    }

    final ConcurrentLinkedQueue<Delivery> deliveries = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    final List<String> overlaps = new CopyOnWriteArrayList<>();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger mostInFlight = new AtomicInteger();
    final AtomicInteger cutShort = new AtomicInteger();
    private final Map<String, AtomicInteger> inFlightById = new ConcurrentHashMap<>();
    private final Set<String> ids = ConcurrentHashMap.newKeySet();
    private final long seed;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    private Receiver(long seed) throws IOException {
      this.seed = seed;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
      server.setExecutor(threads);
      server.createContext("/", ex -> {
        try (ex) {
          long start = System.nanoTime();
          String id = String.valueOf(ex.getRequestHeaders().getFirst("X-Portal-Webhook-Id"));
          String attemptHeader = ex.getRequestHeaders().getFirst("X-Portal-Webhook-Attempt");
          int attempt = attemptHeader == null ? -1 : Integer.parseInt(attemptHeader);
          mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          AtomicInteger same = inFlightById.computeIfAbsent(id, k -> new AtomicInteger());
          if (same.incrementAndGet() > 1) {
            overlaps.add(id + "#" + attempt);
          }
          byte[] body = null;
          int status;
          try {
            body = ex.getRequestBody().readAllBytes();
            Random r = new Random(seed ^ (id.hashCode() * 0x9E3779B97F4A7C15L) ^ attempt);
            status = attempt == 1 && r.nextInt(4) == 0 ? 503 : 200;
            Thread.sleep(r.nextInt(51));
            deliveries.add(new Delivery(id, attempt, ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery(),
                body, status));
            if (status / 100 == 2) {
              ids.add(id);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = 500;
          } finally {
            // Out of progress before the answer leaves: the gateway cannot have it, and start the
            // next attempt, while this one still counts.
            same.decrementAndGet();
            inFlight.decrementAndGet();
            requests.add(new Request(id, attempt, start, System.nanoTime()));
            if (body == null) {
              cutShort.incrementAndGet(); // the sending gateway was killed mid-request
            }
          }
          byte[] out = ("answer " + status).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, out.length);
          ex.getResponseBody().write(out);
        }
      });
      server.start();
    }

    static Receiver start(long seed) throws IOException {
      return new Receiver(seed);
    }

    int port() {
      return server.getAddress().getPort();
    }

    /** @return the ids answered with a 2xx */
    Set<String> ids() {
      return ids;
    }

    Map<String, List<Request>> requestsById() {
      return requests.stream().collect(Collectors.groupingBy(Request::id));
    }

    @Override
    public void close() {
      server.stop(0);
      threads.shutdownNow();
    }
  }
}
