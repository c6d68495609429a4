package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Fuzz targets for the scanners that read AI usage out of response bodies as they pass the
 * gateway: {@link EventStreamScanner} ({@code text/event-stream}) and {@link JsonBodyScanner}
 * (JSON, gzip or not), driven the way {@link UsageMeter} drives them. The body comes from the
 * upstream, so any bytes are possible. Replayed on
 * {@code src/test/resources/dev/portalgateway/plugins/ratelimit/ScannerFuzzTestInputs/<method>/}
 * by every test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class ScannerFuzzTest {

  /**
   * An event stream in any pieces: the client gets the stream byte for byte, or (when the gateway
   * asked for usage the client did not) the stream with exactly one event removed, an event that
   * held {@code "usage"}, ending at a line end; the same bytes and the same usage whatever the
   * pieces; usage counts are never negative. Input: a byte whose low bit asks for the removal
   * and whose other bits pick the piece size, a byte for the event size limit, then the body.
   */
  @FuzzTest
  void eventStream(byte[] input) {
    if (input.length < 2) {
      return;
    }
    boolean remove = (input[0] & 1) != 0;
    int piece = 1 + ((input[0] & 0xFF) >> 1);
    int maxEventBytes = 16 + (input[1] & 0xFF) * 8;
    byte[] body = Arrays.copyOfRange(input, 2, input.length);

    Run split = run(new EventStreamScanner(remove, maxEventBytes), body, piece);
    Run whole = run(new EventStreamScanner(remove, maxEventBytes), body, Math.max(1, body.length));
    assertThat(split.out).as("what the client gets depends on the pieces").isEqualTo(whole.out);
    assertThat(split.usage).isEqualTo(whole.usage);
    checkUsage(split.usage);
    if (!remove) {
      assertThat(split.out).isEqualTo(body);
      return;
    }
    byte[] out = split.out;
    int removed = body.length - out.length;
    assertThat(removed).isNotNegative();
    if (removed == 0) {
      assertThat(out).isEqualTo(body);
      return;
    }
    // out is body without body[a, a + removed) for some a: between the common suffix and prefix.
    int prefix = 0;
    while (prefix < out.length && out[prefix] == body[prefix]) {
      prefix++;
    }
    int suffix = 0;
    while (suffix < out.length && out[out.length - 1 - suffix] == body[body.length - 1 - suffix]) {
      suffix++;
    }
    assertThat(out.length - suffix).as("more than one run of bytes removed").isLessThanOrEqualTo(prefix);
    boolean anEvent = false;
    for (int a = out.length - suffix; a <= prefix && !anEvent; a++) {
      String gone = new String(body, a, removed, StandardCharsets.ISO_8859_1);
      char last = gone.charAt(gone.length() - 1);
      anEvent = gone.contains("\"usage\"") && (last == '\n' || last == '\r' || a + removed == body.length);
    }
    assertThat(anEvent).as("the bytes removed are not a usage event").isTrue();
  }

  /**
   * A JSON body, maybe gzipped, in any pieces: passes unchanged, the same usage whatever the
   * pieces, never negative. Input: a byte whose low bit gzips the body and whose other bits pick
   * the piece size, a byte for the size limit, then the body.
   */
  @FuzzTest
  void jsonBody(byte[] input) {
    if (input.length < 2) {
      return;
    }
    boolean gzip = (input[0] & 1) != 0;
    int piece = 1 + ((input[0] & 0xFF) >> 1);
    int maxBytes = 16 + (input[1] & 0xFF) * 16;
    byte[] body = Arrays.copyOfRange(input, 2, input.length);
    if (gzip) {
      ByteArrayOutputStream zipped = new ByteArrayOutputStream();
      try (var z = new java.util.zip.GZIPOutputStream(zipped)) {
        z.write(body);
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      body = zipped.toByteArray();
    }
    Run split = run(new JsonBodyScanner(maxBytes), body, piece);
    Run whole = run(new JsonBodyScanner(maxBytes), body, Math.max(1, body.length));
    assertThat(split.out).isEqualTo(body);
    assertThat(split.usage).isEqualTo(whole.usage);
    checkUsage(split.usage);
  }

  private static void checkUsage(Usage usage) {
    if (usage == null) {
      return;
    }
    assertThat(usage.inputTokens()).as("input tokens").isNotNegative();
    assertThat(usage.outputTokens()).as("output tokens").isNotNegative();
    assertThat(usage.totalTokens()).as("total tokens").isNotNegative();
  }

  private record Run(byte[] out, Usage usage) {}

  /** Drives a scanner as {@link UsageMeter#read} does, and collects what the client reads. */
  private static Run run(ResponseScanner scanner, byte[] body, int piece) {
    ByteArrayOutputStream client = new ByteArrayOutputStream();
    ByteQueue pending = new ByteQueue();
    for (int off = 0; off < body.length; off += piece) {
      int n = Math.min(piece, body.length - off);
      byte[] chunk = Arrays.copyOfRange(body, off, off + n);
      if (scanner.transforming()) {
        scanner.scan(chunk, 0, n, pending);
        drain(pending, client);
      } else {
        scanner.scan(chunk, 0, n, null);
        client.write(chunk, 0, n);
      }
    }
    scanner.end(pending);
    drain(pending, client);
    return new Run(client.toByteArray(), scanner.usage("fallback"));
  }

  private static void drain(ByteQueue pending, ByteArrayOutputStream client) {
    byte[] buf = new byte[97];
    while (!pending.isEmpty()) {
      int n = pending.take(buf, 0, buf.length);
      client.write(buf, 0, n);
    }
  }
}
