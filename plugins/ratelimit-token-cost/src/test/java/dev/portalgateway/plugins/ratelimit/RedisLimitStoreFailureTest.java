package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.redis.RedisClient;
import dev.portalgateway.redis.RedisEndpoint;
import dev.portalgateway.redis.CircuitBreaker;
import dev.portalgateway.redis.RedisServerProcess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A Redis outage must cost a request at most the timeout, and right after a failure almost nothing:
 * these tests use servers that refuse, stay silent, answer garbage or die, and check that every
 * call ends in {@link StoreUnavailableException}. The preemptive timeouts only catch hangs; they
 * are far above the configured timeouts, so a slow machine does not fail them.
 */
class RedisLimitStoreFailureTest {
  private static final Duration HANG = Duration.ofSeconds(5);
  private static final Duration COOLDOWN = Duration.ofMillis(300);

  private final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable c : cleanup.reversed()) {
      c.close();
    }
  }

  private RedisLimitStore store(String url) {
    RedisLimitStore s = new RedisLimitStore(
        new RedisSettings(url, Duration.ofMillis(500), Duration.ofMillis(200), 4, "pg-test:"), COOLDOWN);
    cleanup.add(s);
    return s;
  }

  @Test
  void nothingListeningFailsWithinTheTimeoutThenFailsFast() throws Exception {
    RedisLimitStore store = store("redis://127.0.0.1:" + RedisServerProcess.freePort());
    assertTimeoutPreemptively(HANG, () -> assertThatThrownBy(() -> store.take("k", 1, 1))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("redis://127.0.0.1:")
        .hasRootCauseInstanceOf(java.net.ConnectException.class));
    assertThat(store.failingFast()).isTrue();
    assertThatThrownBy(() -> store.reserve("k", Duration.ofMinutes(1), 1, 1))
        .isInstanceOf(StoreUnavailableException.class)
        .hasCauseInstanceOf(RedisClient.CircuitOpenException.class)
        .hasMessageContaining("ConnectException");
  }

  @Test
  void aServerThatNeverAnswersCostsAFewTimeoutsThenNothingUntilTheProbe() throws Exception {
    SilentServer silent = new SilentServer(socket -> {});
    RedisLimitStore store = store("redis://127.0.0.1:" + silent.port());

    // Each late call drops its connection (a reply may still come on it) and opens a new one.
    for (int i = 1; i <= CircuitBreaker.TIMEOUTS_TO_OPEN; i++) {
      assertTimeoutPreemptively(HANG, () -> assertThatThrownBy(() -> store.take("k", 1, 1))
          .isInstanceOf(StoreUnavailableException.class)
          .hasCauseInstanceOf(SocketTimeoutException.class));
      assertThat(silent.accepted.get()).isEqualTo(i);
      assertThat(store.failingFast()).isEqualTo(i == CircuitBreaker.TIMEOUTS_TO_OPEN);
    }

    // Failing fast: no new connection, no waiting.
    for (int i = 0; i < 100; i++) {
      assertThatThrownBy(() -> store.used("k", Duration.ofMinutes(1)))
          .hasCauseInstanceOf(RedisClient.CircuitOpenException.class);
    }
    assertThat(silent.accepted.get()).as("the network was left alone").isEqualTo(CircuitBreaker.TIMEOUTS_TO_OPEN);

    // After the cool-down one call tries again, on a new connection; late again, it fails fast again.
    Thread.sleep(COOLDOWN.toMillis() + 50);
    assertTimeoutPreemptively(HANG, () -> assertThatThrownBy(() -> store.take("k", 1, 1))
        .hasCauseInstanceOf(SocketTimeoutException.class));
    assertThat(silent.accepted.get()).isEqualTo(CircuitBreaker.TIMEOUTS_TO_OPEN + 1);
    assertThatThrownBy(() -> store.take("k", 1, 1)).hasCauseInstanceOf(RedisClient.CircuitOpenException.class);
  }

  @Test
  void oneLateReplyFailsOnlyItsOwnCall() throws Exception {
    RedisServerProcess server = RedisServerProcess.startOnFreePort();
    cleanup.add(server);
    // A cool-down far longer than the test: were the breaker opened, the calls below would fail.
    RedisLimitStore store = new RedisLimitStore(
        new RedisSettings(server.url(), Duration.ofMillis(500), Duration.ofMillis(200), 4, "pg-test:"),
        Duration.ofMinutes(5));
    cleanup.add(store);
    assertThat(store.take("k", 0.001, 10).remaining()).isEqualTo(9);

    // Redis runs one command at a time: a script that spins for 600 ms makes it late for everyone.
    RedisClient busy = new RedisClient(RedisEndpoint.parse(server.url()), Duration.ofSeconds(2), Duration.ofSeconds(5), 1,
        Duration.ofSeconds(1));
    cleanup.add(busy);
    Thread spinner = Thread.ofVirtual().start(() -> {
      try {
        busy.send("EVAL", "local s = redis.call('TIME') local n = 0 "
            + "repeat local t = redis.call('TIME') n = (t[1] - s[1]) * 1000000 + (t[2] - s[2]) until n >= 600000 return 1", "0");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(100);
    // Four requests in flight during the stall (the pool's 4 connections): all late together.
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<?>> late = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        late.add(threads.submit(() -> assertThatThrownBy(() -> store.take("k", 0.001, 10))
            .hasCauseInstanceOf(SocketTimeoutException.class)));
      }
      for (var f : late) {
        f.get(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
    spinner.join(5000);

    assertThat(store.failingFast()).isFalse();
    // The next call goes to Redis. Remaining 4, not 8: the late calls' scripts ran once the spin
    // was over; only their answers came too late for the gateway.
    assertThat(store.take("k", 0.001, 10).remaining()).as("the next call goes to Redis").isEqualTo(4);
  }

  @Test
  void aServerThatAnswersGarbageIsAProtocolError() throws Exception {
    SilentServer http = new SilentServer(socket -> {
      try {
        socket.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      } catch (IOException ignored) {
        // the test sees what the client made of it
      }
    });
    RedisLimitStore store = store("redis://127.0.0.1:" + http.port());
    assertTimeoutPreemptively(HANG, () -> assertThatThrownBy(() -> store.take("k", 1, 1))
        .isInstanceOf(StoreUnavailableException.class)
        .hasCauseInstanceOf(RedisClient.ProtocolException.class));
    assertThat(store.failingFast()).isTrue();
  }

  @Test
  void callsWorkAgainOnceRedisIsBack() throws Exception {
    RedisServerProcess server = RedisServerProcess.startOnFreePort();
    cleanup.add(server);
    RedisLimitStore store = store(server.url());
    assertThat(store.take("k", 0.001, 10).remaining()).isEqualTo(9);

    server.kill();
    assertTimeoutPreemptively(HANG, () -> assertThatThrownBy(() -> store.take("k", 0.001, 10))
        .isInstanceOf(StoreUnavailableException.class));

    server.start(); // same port; an empty server that has none of the scripts
    BucketResult r = null;
    for (int i = 0; i < 100 && r == null; i++) {
      try {
        r = store.take("k", 0.001, 10);
      } catch (StoreUnavailableException e) {
        Thread.sleep(50); // still cooling down
      }
    }
    assertThat(r).as("a call succeeded within 5s of Redis coming back").isNotNull();
    assertThat(r.remaining()).as("a new server: a new bucket").isEqualTo(9);
    assertThat(store.failingFast()).isFalse();
  }

  @Test
  void aRestartBetweenCallsGoesUnnoticed() throws Exception {
    RedisServerProcess server = RedisServerProcess.startOnFreePort();
    cleanup.add(server);
    RedisLimitStore store = store(server.url());
    assertThat(store.take("k", 0.001, 10).allowed()).isTrue(); // leaves a connection in the pool

    server.kill();
    server.start();
    assertThat(store.take("k", 0.001, 10).allowed()).as("the dead pooled connection is replaced").isTrue();
    assertThat(store.failingFast()).isFalse();
  }

  @Test
  void aWrongPasswordIsAFailureThatDoesNotShowThePassword() throws Exception {
    RedisServerProcess server = RedisServerProcess.startOnFreePort("--requirepass", "right-horse-battery");
    cleanup.add(server);
    RedisLimitStore wrong = store("redis://:hunter2@127.0.0.1:" + server.port());
    assertThatThrownBy(() -> wrong.take("k", 1, 1))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("WRONGPASS")
        .hasMessageContaining("redis://***@127.0.0.1:" + server.port())
        .hasMessageNotContaining("hunter2");

    RedisLimitStore right = store("redis://:right-horse-battery@127.0.0.1:" + server.port());
    assertThat(right.take("k", 1, 1).allowed()).isTrue();
  }

  /** Accepts connections and then does {@code onAccept} and nothing more: never reads, never closes. */
  private final class SilentServer implements AutoCloseable {
    final AtomicInteger accepted = new AtomicInteger();
    private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> held = new CopyOnWriteArrayList<>();

    SilentServer(Consumer<Socket> onAccept) throws IOException {
      cleanup.add(this);
      Thread.ofPlatform().daemon().name("silent-redis").start(() -> {
        while (!socket.isClosed()) {
          try {
            Socket s = socket.accept();
            held.add(s);
            accepted.incrementAndGet();
            onAccept.accept(s);
          } catch (IOException e) {
            return; // closed
          }
        }
      });
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
