package dev.portalgateway.plugins.ratelimit;

import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_JSON;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_SSE;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_START_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_BANG_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_DONE_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_HELLO_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_ROLE_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_STOP_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_USAGE_EVENT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The meter against an upstream the test writes as it goes: bytes reach the reader before the
 * upstream has written more, and a reader that leaves early still gets its usage charged. Every
 * wait is bounded; nothing asserts on how long anything took.
 */
class UsageMeterStreamingTest {
  private static final String SSE = "text/event-stream";
  private static final Duration LONG = Duration.ofSeconds(30);

  private final ScriptedUpstream upstream = new ScriptedUpstream();
  private final CompletableFuture<Optional<Usage>> usage = new CompletableFuture<>();
  private final AtomicInteger calls = new AtomicInteger();

  private InputStream meter(String contentType, boolean injected, UsageMeter.Drain drain) {
    return UsageMeter.wrap(upstream, contentType, injected, "requested-model", drain, u -> {
      calls.incrementAndGet();
      usage.complete(Optional.ofNullable(u));
    });
  }

  private Usage awaitUsage() throws Exception {
    return usage.get(10, TimeUnit.SECONDS).orElse(null);
  }

  /** Reads a stream on a thread of its own, so the test can write the upstream meanwhile. */
  private static final class Client {
    private static final Object EOF = new Object();
    private final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final ByteArrayOutputStream unclaimed = new ByteArrayOutputStream();

    Client(InputStream in) {
      Thread.ofVirtual().start(() -> {
        byte[] buf = new byte[16 * 1024];
        try {
          for (int n; (n = in.read(buf)) >= 0; ) {
            received.add(java.util.Arrays.copyOf(buf, n));
          }
          received.add(EOF);
        } catch (IOException e) {
          received.add(e);
        }
      });
    }

    /** @return the next {@code length} bytes, waiting up to ten seconds for them */
    String next(int length) throws Exception {
      while (unclaimed.size() < length) {
        Object chunk = received.poll(10, TimeUnit.SECONDS);
        assertThat(chunk).as("bytes within ten seconds").isNotNull().isInstanceOf(byte[].class);
        unclaimed.write((byte[]) chunk);
      }
      byte[] all = unclaimed.toByteArray();
      unclaimed.reset();
      unclaimed.write(all, length, all.length - length);
      return new String(all, 0, length, StandardCharsets.UTF_8);
    }

    /** @return everything until the end of the stream */
    String rest() throws Exception {
      while (true) {
        Object chunk = received.poll(10, TimeUnit.SECONDS);
        assertThat(chunk).as("the end within ten seconds").isNotNull();
        if (chunk == EOF) {
          String rest = unclaimed.toString(StandardCharsets.UTF_8);
          unclaimed.reset();
          return rest;
        }
        assertThat(chunk).isInstanceOf(byte[].class);
        unclaimed.write((byte[]) chunk);
      }
    }

    /** @return what ended the stream: {@code EOF} or an exception */
    Object end() throws Exception {
      while (true) {
        Object chunk = received.poll(10, TimeUnit.SECONDS);
        assertThat(chunk).as("the end within ten seconds").isNotNull();
        if (!(chunk instanceof byte[])) {
          return chunk;
        }
      }
    }
  }

  // --- Streaming -------------------------------------------------------------------------------------

  @Test
  void eachEventReachesTheReaderBeforeTheUpstreamWritesTheNext() throws Exception {
    for (boolean injected : new boolean[] {false, true}) {
      ScriptedUpstream up = new ScriptedUpstream();
      CompletableFuture<Usage> done = new CompletableFuture<>();
      Client client = new Client(UsageMeter.wrap(up, SSE, injected, null, new UsageMeter.Drain(LONG, 1 << 20), done::complete));
      for (String event : new String[] {OPENAI_ROLE_EVENT, OPENAI_HELLO_EVENT, OPENAI_BANG_EVENT, OPENAI_STOP_EVENT}) {
        up.send(event);
        assertThat(client.next(event.length())).as("injected=%s", injected).isEqualTo(event);
      }
      up.send(OPENAI_USAGE_EVENT);
      up.send(OPENAI_DONE_EVENT);
      up.finish();
      assertThat(client.rest()).isEqualTo(injected ? OPENAI_DONE_EVENT : OPENAI_USAGE_EVENT + OPENAI_DONE_EVENT);
      assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    }
  }

  @Test
  void withoutRemovalNotEvenHalfAnEventIsHeldBack() throws Exception {
    Client client = new Client(meter(SSE, false, new UsageMeter.Drain(LONG, 1 << 20)));
    String half = OPENAI_HELLO_EVENT.substring(0, 40);
    upstream.send(half);
    assertThat(client.next(half.length())).isEqualTo(half);
    upstream.send(OPENAI_HELLO_EVENT.substring(40));
    assertThat(client.next(OPENAI_HELLO_EVENT.length() - 40)).isEqualTo(OPENAI_HELLO_EVENT.substring(40));
    upstream.finish();
    assertThat(client.rest()).isEmpty();
    assertThat(awaitUsage()).isNull();
  }

  @Test
  void withRemovalAnEventIsReleasedAsSoonAsItsBlankLineArrives() throws Exception {
    Client client = new Client(meter(SSE, true, new UsageMeter.Drain(LONG, 1 << 20)));
    String crlf = OPENAI_HELLO_EVENT.replace("\n", "\r\n");
    upstream.send(crlf.substring(0, crlf.length() - 1)); // all but the final LF: the CR already ends the event
    assertThat(client.next(crlf.length() - 1)).isEqualTo(crlf.substring(0, crlf.length() - 1));
    upstream.send("\n");
    assertThat(client.next(1)).isEqualTo("\n");
    String usageCrLf = OPENAI_USAGE_EVENT.replace("\n", "\r\n");
    upstream.send(usageCrLf.substring(0, usageCrLf.length() - 1));
    upstream.send("\n" + OPENAI_DONE_EVENT.replace("\n", "\r\n"));
    upstream.finish();
    assertThat(client.rest()).isEqualTo(OPENAI_DONE_EVENT.replace("\n", "\r\n"));
    assertThat(awaitUsage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
  }

  // --- Abandoned streams -----------------------------------------------------------------------------

  @Test
  void aReaderThatLeavesEarlyIsStillChargedOnceTheDrainReachesTheUsage() throws Exception {
    InputStream in = meter(SSE, false, new UsageMeter.Drain(LONG, 1 << 20));
    upstream.send(ANTHROPIC_START_EVENT);
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isEqualTo(ANTHROPIC_START_EVENT.length());

    CompletableFuture.runAsync(() -> close(in)).get(10, TimeUnit.SECONDS); // returns without waiting for the drain
    assertThat(usage).as("nothing reported while the upstream is still sending").isNotDone();
    assertThat(upstream.isClosed()).isFalse();

    upstream.send(ANTHROPIC_SSE.substring(ANTHROPIC_START_EVENT.length()));
    upstream.finish();
    assertThat(awaitUsage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 12));
    assertThat(upstream.awaitClosed()).isTrue();
    assertThat(calls).hasValue(1);
  }

  @Test
  void aReaderThatLeavesEarlyFromAJsonBodyIsChargedToo() throws Exception {
    InputStream in = meter("application/json", false, new UsageMeter.Drain(LONG, 1 << 20));
    upstream.send(ANTHROPIC_JSON.substring(0, 30));
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isEqualTo(30);
    in.close();
    upstream.send(ANTHROPIC_JSON.substring(30));
    upstream.finish();
    assertThat(awaitUsage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 2095, 503));
    assertThat(upstream.awaitClosed()).isTrue();
  }

  @Test
  void closingWhileAReadIsBlockedHandsTheUpstreamToTheDrain() throws Exception {
    InputStream in = meter(SSE, true, new UsageMeter.Drain(LONG, 1 << 20));
    Client client = new Client(in);
    upstream.send(OPENAI_HELLO_EVENT);
    assertThat(client.next(OPENAI_HELLO_EVENT.length())).isEqualTo(OPENAI_HELLO_EVENT);
    // The client thread is now blocked in read(), waiting for the upstream; the gateway closes from elsewhere.
    CompletableFuture.runAsync(() -> close(in)).get(10, TimeUnit.SECONDS);
    assertThat(usage).isNotDone();

    upstream.send(OPENAI_STOP_EVENT);
    upstream.send(OPENAI_USAGE_EVENT);
    upstream.send(OPENAI_DONE_EVENT);
    upstream.finish();
    assertThat(awaitUsage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    assertThat(upstream.awaitClosed()).isTrue();
    assertThat(client.end()).as("the reader's next read fails: its stream is closed").isInstanceOf(IOException.class);
    assertThat(calls).hasValue(1);
  }

  @Test
  void theDrainStopsAtItsTimeoutAndReportsWhatItSaw() throws Exception {
    InputStream in = meter(SSE, false, new UsageMeter.Drain(Duration.ofMillis(100), 1 << 20));
    upstream.send(ANTHROPIC_START_EVENT);
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isPositive();
    in.close();
    // The upstream never says another word: the timer closes it, which wakes the blocked drain.
    assertThat(awaitUsage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 2));
    assertThat(upstream.awaitClosed()).isTrue();
  }

  @Test
  void theDrainStopsAtItsByteLimit() throws Exception {
    InputStream in = meter(SSE, false, new UsageMeter.Drain(LONG, 100));
    upstream.send(ANTHROPIC_START_EVENT);
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isPositive();
    in.close();
    upstream.send(ANTHROPIC_SSE.substring(ANTHROPIC_START_EVENT.length())); // more than 100 bytes, and no end
    assertThat(awaitUsage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 2));
    assertThat(upstream.awaitClosed()).isTrue();
    assertThat(upstream.bytesRead()).isLessThanOrEqualTo(ANTHROPIC_START_EVENT.length() + 100);
  }

  @Test
  void aFailingUpstreamDuringTheDrainReportsWhatWasSeen() throws Exception {
    InputStream in = meter(SSE, false, new UsageMeter.Drain(LONG, 1 << 20));
    upstream.send(ANTHROPIC_START_EVENT);
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isPositive();
    in.close();
    upstream.fail(new IOException("connection reset"));
    assertThat(awaitUsage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 2));
    assertThat(upstream.awaitClosed()).isTrue();
  }

  @Test
  void aZeroDrainTimeoutClosesAtOnceAndReportsNull() throws Exception {
    InputStream in = meter(SSE, false, new UsageMeter.Drain(Duration.ZERO, 1 << 20));
    upstream.send(ANTHROPIC_START_EVENT);
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isPositive();
    in.close();
    assertThat(usage).as("reported by close() itself").isDone();
    assertThat(awaitUsage()).isNull();
    assertThat(upstream.isClosed()).isTrue();
  }

  @Test
  void aBodyWithNoReadableUsageIsNotDrained() throws Exception {
    InputStream in = meter("text/plain", false, new UsageMeter.Drain(LONG, 1 << 20));
    upstream.send("some text");
    assertThat(in.read(new byte[100])).isEqualTo(9);
    in.close();
    assertThat(usage).isDone();
    assertThat(awaitUsage()).isNull();
    assertThat(upstream.isClosed()).isTrue();
  }

  @Test
  void closingAfterTheEndClosesTheUpstreamWithoutASecondReport() throws Exception {
    InputStream in = meter(SSE, true, new UsageMeter.Drain(LONG, 1 << 20));
    upstream.send(OPENAI_USAGE_EVENT + OPENAI_DONE_EVENT);
    upstream.finish();
    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(OPENAI_DONE_EVENT);
    assertThat(usage).isDone();
    assertThat(upstream.isClosed()).isFalse();
    in.close();
    assertThat(upstream.isClosed()).isTrue();
    assertThat(calls).hasValue(1);
  }

  @Test
  void closingBeforeAnyReadDrainsTheWholeBody() throws Exception {
    // What Body.discard() does through a mapped body: open, close.
    InputStream in = meter(SSE, true, new UsageMeter.Drain(LONG, 1 << 20));
    in.close();
    upstream.send(ANTHROPIC_SSE);
    upstream.finish();
    assertThat(awaitUsage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 12));
    assertThat(upstream.awaitClosed()).isTrue();
  }

  private static void close(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
