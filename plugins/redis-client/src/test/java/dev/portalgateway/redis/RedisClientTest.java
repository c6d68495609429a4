package dev.portalgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RedisClientTest {
  private static RedisServerProcess server;

  @BeforeAll
  static void startRedis() throws Exception {
    // A password for the default user, and an ACL user of its own.
    server = RedisServerProcess.startOnFreePort("--requirepass", "s3cret",
        "--user", "alice", "on", ">alice-pw", "~*", "&*", "+@all");
  }

  @AfterAll
  static void stopRedis() {
    if (server != null) {
      server.close();
    }
  }

  private static RedisClient client(String userInfo, int database) {
    return new RedisClient(RedisEndpoint.parse("redis://" + userInfo + "@127.0.0.1:" + server.port() + "/" + database),
        Duration.ofSeconds(2), Duration.ofSeconds(2), 2, Duration.ofSeconds(1));
  }

  @Test
  void everyKindOfReply() throws Exception {
    try (RedisClient c = client(":s3cret", 0)) {
      assertThat(c.send("PING")).isEqualTo("PONG");
      assertThat(c.send("SET", "greeting", "héllo ✓\r\nsecond line")).isEqualTo("OK");
      assertThat(c.send("GET", "greeting")).isEqualTo("héllo ✓\r\nsecond line");
      assertThat(c.send("GET", "missing")).isNull();
      assertThat(c.send("INCRBY", "n", "-5")).isEqualTo(-5L);
      c.send("RPUSH", "list", "a", "", "c");
      assertThat(c.send("LRANGE", "list", "0", "-1")).isEqualTo(List.of("a", "", "c"));
      assertThat(c.send("LRANGE", "missing", "0", "-1")).isEqualTo(List.of());
      assertThat(c.send("EVAL", "return {1, {'x', false}, redis.error_reply('E1 inner')}", "0"))
          .satisfies(r -> {
            List<?> items = (List<?>) r;
            assertThat(items.get(0)).isEqualTo(1L);
            assertThat(items.get(1)).isEqualTo(java.util.Arrays.asList("x", null));
            assertThat(items.get(2)).isInstanceOf(RedisClient.ErrorReply.class);
          });
      String big = "x".repeat(100_000); // longer than the read buffer
      c.send("SET", "big", big);
      assertThat(c.send("GET", "big")).isEqualTo(big);

      assertThatThrownBy(() -> c.send("NOSUCHCOMMAND"))
          .isInstanceOfSatisfying(RedisClient.ErrorReply.class, e -> assertThat(e.code()).isEqualTo("ERR"));
      assertThat(c.send("PING")).as("an error reply leaves the connection usable").isEqualTo("PONG");
      assertThat(c.failingFast()).as("an error reply is an answer, not an outage").isFalse();
    }
  }

  @Test
  void authenticatesAsAUserAndSelectsTheDatabase() throws Exception {
    try (RedisClient alice = client("alice:alice-pw", 3); RedisClient db0 = client(":s3cret", 0);
        RedisClient db3 = client(":s3cret", 3)) {
      assertThat(alice.send("ACL", "WHOAMI")).isEqualTo("alice");
      alice.send("SET", "where", "three");
      assertThat(db3.send("GET", "where")).isEqualTo("three");
      assertThat(db0.send("GET", "where")).isNull();
      assertThat(db0.send("ACL", "WHOAMI")).isEqualTo("default");
    }
  }

  @Test
  void aClosedClientRefusesCalls() throws Exception {
    RedisClient c = client(":s3cret", 0);
    assertThat(c.send("PING")).isEqualTo("PONG");
    c.close();
    assertThatThrownBy(() -> c.send("PING")).isInstanceOf(java.io.IOException.class).hasMessageContaining("closed");
  }

  @Test
  void urlsParseLikeRedisCli() {
    assertThat(RedisEndpoint.parse("redis://127.0.0.1:6379"))
        .isEqualTo(new RedisEndpoint("127.0.0.1", 6379, false, null, null, 0));
    assertThat(RedisEndpoint.parse("redis://cache.internal").port()).isEqualTo(6379);
    assertThat(RedisEndpoint.parse("rediss://u:p%40ss%3Aw%2Frd@cache.internal:6380/3"))
        .isEqualTo(new RedisEndpoint("cache.internal", 6380, true, "u", "p@ss:w/rd", 3));
    assertThat(RedisEndpoint.parse("redis://:secret@h")).isEqualTo(new RedisEndpoint("h", 6379, false, null, "secret", 0));
    assertThat(RedisEndpoint.parse("redis://secret@h").password()).as("no colon: a password alone").isEqualTo("secret");
    assertThat(RedisEndpoint.parse("redis://[::1]:7000/").host()).isEqualTo("::1");
    assertThat(RedisEndpoint.parse("redis://[::1]:7000").redacted()).isEqualTo("redis://[::1]:7000/0");
    assertThat(RedisEndpoint.parse("rediss://u:pw@h:1/2").redacted()).isEqualTo("rediss://***@h:1/2");
    assertThat(RedisEndpoint.parse("rediss://u:pw@h:1/2").toString()).doesNotContain("pw");
  }

  @Test
  void badUrlsAreRefusedWithoutShowingThePassword() {
    for (String url : List.of("http://:pw-x@h", "redis://:pw-x@", "redis://:pw-x@h/db", "redis://:pw-x@h:port",
        "redis://:pw-x@h/-1", "redis://:pw x@h", "redis://:pw-x@h@i", "pw-x@h")) {
      assertThatThrownBy(() -> RedisEndpoint.parse(url)).as(url)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageNotContaining("pw");
    }
  }
}
