package dev.portalgateway.portal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Behaviour every transport must give two {@link YamuxSession}s (client and server). Subclasses
 * supply the transport: a loopback TCP socket pair, or a real WebSocket on 127.0.0.1.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
abstract class YamuxSessionContract {

  protected YamuxSession client;
  protected YamuxSession server;

  /** Connects {@link #client} and {@link #server} over a fresh transport. */
  protected abstract void connect(YamuxConfig config) throws Exception;

  /** Kills the transport abruptly from the server side. */
  protected abstract void dropTransport() throws Exception;

  /** Releases transport resources. */
  protected abstract void disconnect() throws Exception;

  @BeforeEach
  void setUp() throws Exception {
    connect(YamuxConfig.defaults());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    disconnect();
  }

  @Test
  void atMost256OpenedStreamsWaitForTheirAckAndTheNextOpensOnceOneIsAccepted() throws Exception {
    for (int i = 0; i < YamuxSession.MAX_UNACKNOWLEDGED_OPENS; i++) {
      client.openStream(); // the server accepts none yet, so none is ACKed
    }
    java.util.concurrent.CompletableFuture<YamuxStream> next = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return client.openStream();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    Thread.sleep(200);
    org.assertj.core.api.Assertions.assertThat(next).isNotDone(); // a Go peer's backlog would overflow here
    server.acceptStream(); // ACKs the first
    org.assertj.core.api.Assertions.assertThat(next.get(10, java.util.concurrent.TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void openAcceptAndExchangeBytesBothWays() throws Exception {
    YamuxStream opened = client.openStream();
    assertThat(opened.id()).isEqualTo(1);
    opened.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
    opened.closeOutput();

    YamuxStream accepted = server.acceptStream();
    assertThat(accepted.id()).isEqualTo(1);
    assertThat(new String(accepted.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("ping");
    accepted.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
    accepted.close();

    assertThat(new String(opened.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("pong");
    opened.close();
  }

  @Test
  void serverOpensEvenStreamIds() throws Exception {
    YamuxStream first = server.openStream();
    YamuxStream second = server.openStream();
    assertThat(first.id()).isEqualTo(2);
    assertThat(second.id()).isEqualTo(4);
    assertThat(client.acceptStream().id()).isEqualTo(2);
    assertThat(client.acceptStream().id()).isEqualTo(4);
    assertThat(client.openStream().id()).isEqualTo(1);
    assertThat(client.openStream().id()).isEqualTo(3);
  }

  @Test
  void manyConcurrentStreamsEchoIndependently() throws Exception {
    int streams = 64;
    int size = 96 * 1024;
    Thread echo = Thread.ofVirtual().start(() -> {
      for (int i = 0; i < streams; i++) {
        try {
          YamuxStream s = server.acceptStream();
          Thread.ofVirtual().start(() -> {
            try {
              s.getInputStream().transferTo(s.getOutputStream());
              s.closeOutput();
            } catch (IOException e) {
              s.reset();
            }
          });
        } catch (IOException e) {
          return;
        }
      }
    });
    List<CompletableFuture<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      byte[] payload = new byte[size];
      new Random(i).nextBytes(payload);
      CompletableFuture<Boolean> result = new CompletableFuture<>();
      results.add(result);
      Thread.ofVirtual().start(() -> {
        try {
          YamuxStream s = client.openStream();
          Thread writer = Thread.ofVirtual().start(() -> {
            try {
              s.getOutputStream().write(payload);
              s.closeOutput();
            } catch (IOException e) {
              result.completeExceptionally(e);
            }
          });
          byte[] back = s.getInputStream().readAllBytes();
          writer.join();
          result.complete(Arrays.equals(payload, back));
        } catch (Exception e) {
          result.completeExceptionally(e);
        }
      });
    }
    for (CompletableFuture<Boolean> result : results) {
      assertThat(result.get(20, TimeUnit.SECONDS)).isTrue();
    }
    echo.join();
  }

  @Test
  void halfCloseLetsThePeerKeepWriting() throws Exception {
    YamuxStream opened = client.openStream();
    opened.closeOutput();
    YamuxStream accepted = server.acceptStream();
    assertThat(accepted.getInputStream().read()).isEqualTo(-1);
    accepted.getOutputStream().write(new byte[] {1, 2, 3});
    accepted.closeOutput();
    assertThat(opened.getInputStream().readAllBytes()).containsExactly(1, 2, 3);
    assertThatThrownBy(() -> opened.getOutputStream().write(9)).isInstanceOf(IOException.class);
  }

  @Test
  void resetFailsBothEnds() throws Exception {
    YamuxStream opened = client.openStream();
    opened.getOutputStream().write(1);
    YamuxStream accepted = server.acceptStream();
    assertThat(accepted.getInputStream().read()).isEqualTo(1);
    Future<?> blockedRead = CompletableFuture.runAsync(() -> {
      try {
        accepted.getInputStream().read();
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    Thread.sleep(100);
    opened.reset();
    assertThatThrownBy(() -> blockedRead.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasRootCauseMessage("yamux stream 1: reset by peer");
    assertThatThrownBy(() -> opened.getInputStream().read()).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> opened.getOutputStream().write(1)).isInstanceOf(IOException.class);
    // The peer's writes fail too, once the RST arrived (it already did: the read failed).
    assertThatThrownBy(() -> accepted.getOutputStream().write(1)).isInstanceOf(IOException.class);
    // The session itself is unaffected.
    YamuxStream next = client.openStream();
    next.getOutputStream().write(7);
    assertThat(server.acceptStream().getInputStream().read()).isEqualTo(7);
  }

  @Test
  void slowReaderNeverBuffersMoreThanTheWindowAndStillCompletes() throws Exception {
    int total = 2 * 1024 * 1024;
    byte[] payload = new byte[total];
    new Random(42).nextBytes(payload);
    YamuxStream opened = client.openStream();
    CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
      try {
        opened.getOutputStream().write(payload);
        opened.closeOutput();
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, r -> Thread.ofVirtual().start(r));
    YamuxStream accepted = server.acceptStream();
    InputStream in = accepted.getInputStream();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    byte[] buf = new byte[16 * 1024];
    int maxBuffered = 0;
    int reads = 0;
    // Let the writer run ahead first: it must stop at the window.
    Thread.sleep(300);
    assertThat(written).isNotDone();
    while (true) {
      maxBuffered = Math.max(maxBuffered, accepted.bufferedBytes());
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      received.write(buf, 0, n);
      if (++reads % 8 == 0) {
        Thread.sleep(1);
      }
    }
    written.get(10, TimeUnit.SECONDS);
    assertThat(maxBuffered).isPositive().isLessThanOrEqualTo(YamuxConfig.INITIAL_STREAM_WINDOW);
    assertThat(received.toByteArray()).isEqualTo(payload);
  }

  @Test
  void aStalledStreamDoesNotBlockAnother() throws Exception {
    YamuxStream stalled = client.openStream();
    CompletableFuture<Void> stalledWrite = CompletableFuture.runAsync(() -> {
      try {
        stalled.getOutputStream().write(new byte[1024 * 1024]);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, r -> Thread.ofVirtual().start(r));
    YamuxStream stalledPeer = server.acceptStream();
    // Wait until the stalled writer has used up its whole window.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (stalled.sendWindow() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(stalled.sendWindow()).isZero();
    assertThat(stalledWrite).isNotDone();

    YamuxStream other = client.openStream();
    byte[] payload = new byte[600 * 1024];
    new Random(7).nextBytes(payload);
    Thread.ofVirtual().start(() -> {
      try {
        other.getOutputStream().write(payload);
        other.closeOutput();
      } catch (IOException ignored) {
        // surfaces as a mismatch below
      }
    });
    YamuxStream otherPeer = server.acceptStream();
    assertThat(otherPeer.getInputStream().readAllBytes()).isEqualTo(payload);
    assertThat(stalledPeer.bufferedBytes()).isLessThanOrEqualTo(YamuxConfig.INITIAL_STREAM_WINDOW);

    // Draining the stalled stream releases its writer.
    byte[] sink = new byte[64 * 1024];
    int drained = 0;
    while (drained < 1024 * 1024) {
      drained += stalledPeer.getInputStream().read(sink);
    }
    stalledWrite.get(10, TimeUnit.SECONDS);
  }

  @Test
  void pingReportsRoundTripTime() throws Exception {
    Duration rtt = client.ping();
    assertThat(rtt).isPositive().isLessThan(Duration.ofSeconds(5));
    assertThat(server.ping()).isPositive();
  }

  @Test
  void goAwayStopsNewStreamsAndEndsTheSession() throws Exception {
    YamuxStream opened = client.openStream();
    opened.getOutputStream().write(1);
    YamuxStream accepted = server.acceptStream();
    server.close();
    assertThat(server.closeFuture()).isCompleted();
    try {
      client.closeFuture().get(5, TimeUnit.SECONDS);
    } catch (ExecutionException expected) {
      // The transport ending after GoAway may be reported either way.
    }
    assertThat(client.isRemoteGoAway()).isTrue();
    assertThat(client.remoteGoAwayCode()).isEqualTo(YamuxHeader.GO_AWAY_NORMAL);
    assertThatThrownBy(client::openStream).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> opened.getInputStream().read()).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> accepted.getInputStream().read()).isInstanceOf(IOException.class);
    assertThatThrownBy(client::acceptStream).isInstanceOf(IOException.class);
  }

  @Test
  void transportDropFailsBlockedReadsAndWritesPromptly() throws Exception {
    YamuxStream reading = client.openStream();
    YamuxStream writing = client.openStream();
    AtomicInteger failures = new AtomicInteger();
    CompletableFuture<Throwable> readFailure = new CompletableFuture<>();
    CompletableFuture<Throwable> writeFailure = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        reading.getInputStream().read();
        readFailure.complete(null);
      } catch (Throwable t) {
        failures.incrementAndGet();
        readFailure.complete(t);
      }
    });
    Thread.ofVirtual().start(() -> {
      try {
        OutputStream out = writing.getOutputStream();
        out.write(new byte[4 * 1024 * 1024]);
        writeFailure.complete(null);
      } catch (Throwable t) {
        writeFailure.complete(t);
      }
    });
    Thread.sleep(300);
    assertThat(readFailure).isNotDone();
    assertThat(writeFailure).isNotDone();
    long start = System.nanoTime();
    dropTransport();
    assertThat(readFailure.get(5, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
    assertThat(writeFailure.get(5, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThatThrownBy(() -> client.closeFuture().get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
  }
}
