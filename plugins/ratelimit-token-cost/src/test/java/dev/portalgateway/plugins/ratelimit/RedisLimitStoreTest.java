package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.redis.RedisClient;
import dev.portalgateway.redis.RedisEndpoint;
import dev.portalgateway.redis.RedisServerProcess;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RedisLimitStoreTest extends LimitStoreContract {
  private static RedisServerProcess server;
  /** For looking at the keys the store writes. */
  private RedisClient inspector;

  @BeforeAll
  static void startRedis() throws Exception {
    server = RedisServerProcess.startOnFreePort();
  }

  @AfterAll
  static void stopRedis() {
    if (server != null) {
      server.close();
    }
  }

  /** Generous timeouts: these tests are about behaviour, not speed, and CI machines stall. */
  static RedisSettings settings(String url) {
    return new RedisSettings(url, Duration.ofSeconds(2), Duration.ofSeconds(2), 16, "pg-test:");
  }

  @Override
  LimitStore newStore() {
    return new RedisLimitStore(settings(server.url()));
  }

  @Override
  void letTimePass(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @BeforeEach
  void openInspector() {
    inspector = new RedisClient(RedisEndpoint.parse(server.url()), Duration.ofSeconds(2), Duration.ofSeconds(2), 1,
        Duration.ofSeconds(1));
  }

  @AfterEach
  void closeInspector() {
    inspector.close();
  }

  @Test
  void twoStoresOnOneServerEnforceOneLimit() throws Exception {
    // Two gateway replicas: separate stores, separate connections, one Redis.
    try (RedisLimitStore other = new RedisLimitStore(settings(server.url()))) {
      List<LimitStore> replicas = List.of(store, other);
      assertThat(countAllowed(replicas, 200, s -> s.take(key("shared"), 0.001, 50).allowed())).isEqualTo(50);
      assertThat(countAllowed(replicas, 200, s -> s.reserve(key("shared"), LONG_WINDOW, 30, 1).allowed())).isEqualTo(30);
      assertThat(other.used(key("shared"), LONG_WINDOW)).isEqualTo(30);
    }
  }

  @Test
  void keysCarryThePrefixAndExpire() throws Exception {
    store.take(key("b"), 0.1, 3); // full again in 10s
    assertThat(inspector.send("TYPE", "pg-test:" + key("b"))).isEqualTo("hash");
    assertThat((Long) inspector.send("PTTL", "pg-test:" + key("b")))
        .as("until full, plus a margin").isBetween(9_000L, 12_000L);

    BudgetResult r = store.reserve(key("w"), Duration.ofHours(1), 10, 4);
    String windowKey = "pg-test:" + key("w") + ":" + r.windowStartMillis();
    assertThat(inspector.send("GET", windowKey)).isEqualTo("4");
    assertThat((Long) inspector.send("PTTL", windowKey))
        .as("until the window ends, plus a margin").isPositive().isLessThanOrEqualTo(r.reset().toMillis() + 2_000);

    store.settle(key("w"), Duration.ofHours(1), r.windowStartMillis(), -10);
    assertThat(inspector.send("GET", windowKey)).isEqualTo("0");
    assertThat((Long) inspector.send("PTTL", windowKey)).as("settling keeps the expiry").isPositive();
  }

  @Test
  void aRequestsBucketsCostOneRoundTripTogether() throws Exception {
    List<RateBucket> four = List.of(new RateBucket(key("principal"), 10, 5), new RateBucket(key("ip"), 10, 5),
        new RateBucket(key("lease"), 10, 5), new RateBucket(key("global"), 10, 5));
    store.takeAll(four); // loads the script
    long before = scriptCalls();
    assertThat(store.takeAll(four)).extracting(BucketResult::remaining).containsExactly(3L, 3L, 3L, 3L);
    assertThat(scriptCalls() - before).as("script calls for four buckets").isEqualTo(1);
    for (RateBucket b : four) {
      assertThat(inspector.send("TYPE", "pg-test:" + b.key())).isEqualTo("hash");
    }
  }

  /** @return how many EVALSHA and EVAL commands Redis has run, from INFO commandstats */
  private long scriptCalls() throws Exception {
    String stats = (String) inspector.send("INFO", "commandstats");
    long calls = 0;
    for (String line : stats.split("\r\n")) {
      if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
        String field = line.substring(line.indexOf("calls=") + 6);
        calls += Long.parseLong(field.substring(0, field.indexOf(',')));
      }
    }
    return calls;
  }

  @Test
  void scriptsAreSentAgainWhenRedisHasForgottenThem() throws Exception {
    assertThat(store.take(key("b"), 1, 5).remaining()).isEqualTo(4);
    assertThat(inspector.send("SCRIPT", "FLUSH")).isEqualTo("OK"); // as after a restart
    assertThat(store.take(key("b"), 1, 5).remaining()).isEqualTo(3);
    assertThat(store.reserve(key("w"), LONG_WINDOW, 10, 1).used()).isEqualTo(1);
    assertThat(inspector.send("SCRIPT", "FLUSH")).isEqualTo("OK");
    assertThat(store.used(key("w"), LONG_WINDOW)).isEqualTo(1);
  }
}
