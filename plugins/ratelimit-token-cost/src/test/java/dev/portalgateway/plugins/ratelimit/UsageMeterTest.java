package dev.portalgateway.plugins.ratelimit;

import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_CACHED_SSE;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_JSON;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_SSE;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.ANTHROPIC_START_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_DONE_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_HELLO_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_JSON;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_SSE;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_SSE_WITHOUT_USAGE;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_STOP_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.OPENAI_USAGE_EVENT;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.RESPONSES_JSON;
import static dev.portalgateway.plugins.ratelimit.AiPayloads.RESPONSES_SSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** What the meter reads from whole bodies, and what it lets through; see UsageMeterStreamingTest for timing. */
class UsageMeterTest {
  private static final String SSE = "text/event-stream";
  private static final String JSON = "application/json";

  /** What one metered body gave the client and the callback. */
  private record Metered(String body, List<Usage> calls) {
    Usage usage() {
      assertThat(calls).as("callback calls").hasSize(1);
      return calls.get(0);
    }
  }

  private static Metered meter(String contentType, boolean injected, String requestModel, InputStream upstream)
      throws IOException {
    List<Usage> calls = Collections.synchronizedList(new ArrayList<>());
    try (InputStream in = UsageMeter.wrap(upstream, contentType, injected, requestModel, Duration.ofSeconds(5), calls::add)) {
      String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Metered(body, calls);
    }
  }

  private static Metered meter(String contentType, boolean injected, String body) throws IOException {
    return meter(contentType, injected, "requested-model", bytes(body));
  }

  private static InputStream bytes(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Hands out its bytes in reads of the sizes {@code sizeOfRead} gives for read 0, 1, 2... */
  private static final class Chunked extends InputStream {
    private final byte[] bytes;
    private final IntUnaryOperator sizeOfRead;
    private int pos;
    private int reads;

    Chunked(String text, IntUnaryOperator sizeOfRead) {
      this.bytes = text.getBytes(StandardCharsets.UTF_8);
      this.sizeOfRead = sizeOfRead;
    }

    static Chunked oneByteAtATime(String text) {
      return new Chunked(text, r -> 1);
    }

    @Override
    public int read() {
      return pos == bytes.length ? -1 : bytes[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos == bytes.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, bytes.length - pos), Math.max(1, sizeOfRead.applyAsInt(reads++)));
      System.arraycopy(bytes, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  // --- JSON bodies -----------------------------------------------------------------------------------

  @Test
  void openAiJsonReportsPromptAndCompletionTokensAndPassesTheBodyUntouched() throws IOException {
    Metered m = meter(JSON, false, OPENAI_JSON);
    assertThat(m.body()).isEqualTo(OPENAI_JSON);
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-2024-08-06", 1117, 46));
  }

  @Test
  void anthropicJsonReportsInputAndOutputTokens() throws IOException {
    Metered m = meter(JSON, false, ANTHROPIC_JSON);
    assertThat(m.body()).isEqualTo(ANTHROPIC_JSON);
    assertThat(m.usage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 2095, 503));
  }

  @Test
  void openAiResponsesJsonUsesInputAndOutputTokenNames() throws IOException {
    assertThat(meter(JSON, false, RESPONSES_JSON).usage()).isEqualTo(new Usage("gpt-4.1-2025-04-14", 36, 87));
  }

  @Test
  void jsonMediaTypesWithParametersAndSuffixesAreRead() throws IOException {
    assertThat(meter("application/json; charset=utf-8", false, "requested", bytes(OPENAI_JSON)).usage())
        .isEqualTo(new Usage("gpt-4o-2024-08-06", 1117, 46));
    assertThat(meter("Application/Vnd.Example+JSON", false, "requested", bytes(ANTHROPIC_JSON)).usage().inputTokens())
        .isEqualTo(2095);
    assertThat(UsageMeter.modeOf(" text/event-stream ; charset=utf-8")).isEqualTo(UsageMeter.Mode.EVENT_STREAM);
    assertThat(UsageMeter.modeOf("text/json")).isEqualTo(UsageMeter.Mode.NONE);
  }

  @Test
  void aResponseWithoutAModelIsChargedToTheRequestedModel() throws IOException {
    Metered m = meter(JSON, false, "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
    assertThat(m.usage()).isEqualTo(new Usage("requested-model", 3, 4));
  }

  @Test
  void aTotalAloneCountsAsOutputAndATotalBesidesThePromptGivesTheRest() throws IOException {
    assertThat(meter(JSON, false, "{\"usage\":{\"total_tokens\":42}}").usage())
        .isEqualTo(new Usage("requested-model", 0, 42));
    assertThat(meter(JSON, false, "{\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}").usage())
        .isEqualTo(new Usage("text-embedding-3-small", 8, 0));
    assertThat(meter(JSON, false, "{\"usage\":{\"prompt_tokens\":8,\"total_tokens\":20}}").usage())
        .isEqualTo(new Usage("requested-model", 8, 12));
  }

  @Test
  void jsonWithoutUsageInvalidJsonAndNonJsonReportNull() throws IOException {
    String error = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
    assertThat(meter(JSON, false, error).usage()).isNull();
    assertThat(meter(JSON, false, "{\"usage\":{\"prompt_tokens\":3,").usage()).isNull();
    assertThat(meter(JSON, false, "<html>Bad Gateway</html>").usage()).isNull();
    assertThat(meter(JSON, false, "").usage()).isNull();
    assertThat(meter(JSON, false, "{\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":\"many\"}}").usage()).isNull();
  }

  @Test
  void aJsonBodyOverTheCapPassesWholeButIsNotRead() throws IOException {
    String pad = "x".repeat(UsageMeter.MAX_JSON_BYTES);
    String body = "{\"pad\":\"" + pad + "\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}";
    Metered m = meter(JSON, false, body);
    assertThat(m.body()).isEqualTo(body);
    assertThat(m.usage()).isNull();

    String fits = "{\"pad\":\"" + "x".repeat(UsageMeter.MAX_JSON_BYTES - 100) + "\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}";
    assertThat(meter(JSON, false, fits).usage()).isEqualTo(new Usage("requested-model", 1, 2));
  }

  @Test
  void aGzipJsonBodyIsInflatedToReadItsUsage() throws IOException {
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
      gz.write(OPENAI_JSON.getBytes(StandardCharsets.UTF_8));
    }
    List<Usage> calls = new ArrayList<>();
    byte[] seen;
    try (InputStream in = UsageMeter.wrap(new ByteArrayInputStream(zipped.toByteArray()), JSON, false, null,
        Duration.ZERO, calls::add)) {
      seen = in.readAllBytes();
    }
    assertThat(seen).isEqualTo(zipped.toByteArray());
    assertThat(calls).containsExactly(new Usage("gpt-4o-2024-08-06", 1117, 46));
  }

  @Test
  void otherMediaTypesPassUntouchedAndReportNull() throws IOException {
    Metered plain = meter("text/plain", false, OPENAI_JSON);
    assertThat(plain.body()).isEqualTo(OPENAI_JSON);
    assertThat(plain.usage()).isNull();
    Metered none = meter(null, true, OPENAI_SSE);
    assertThat(none.body()).isEqualTo(OPENAI_SSE);
    assertThat(none.usage()).isNull();
  }

  // --- OpenAI event streams --------------------------------------------------------------------------

  @Test
  void openAiStreamReportsTheFinalUsageChunkAndKeepsItWhenTheClientAskedForIt() throws IOException {
    Metered m = meter(SSE, false, OPENAI_SSE);
    assertThat(m.body()).isEqualTo(OPENAI_SSE);
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
  }

  @Test
  void theInjectedUsageChunkIsRemovedByteForByte() throws IOException {
    Metered m = meter(SSE, true, OPENAI_SSE);
    assertThat(m.body()).isEqualTo(OPENAI_SSE_WITHOUT_USAGE);
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
  }

  @Test
  void removalWorksWithCrLfAndBareCrLineEnds() throws IOException {
    for (String eol : List.of("\r\n", "\r")) {
      Metered m = meter(SSE, true, OPENAI_SSE.replace("\n", eol));
      assertThat(m.body()).as("line ends %s", eol.replace("\r", "CR").replace("\n", "LF"))
          .isEqualTo(OPENAI_SSE_WITHOUT_USAGE.replace("\n", eol));
      assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    }
  }

  @Test
  void removalIsExactWhereverTheUpstreamSplitsItsReads() throws IOException {
    for (String eol : List.of("\n", "\r\n")) {
      String stream = (OPENAI_STOP_EVENT + OPENAI_USAGE_EVENT + OPENAI_DONE_EVENT).replace("\n", eol);
      String expected = (OPENAI_STOP_EVENT + OPENAI_DONE_EVENT).replace("\n", eol);
      for (int split = 1; split < stream.length(); split++) {
        int at = split;
        Metered m = meter(SSE, true, null, new Chunked(stream, r -> r == 0 ? at : Integer.MAX_VALUE));
        assertThat(m.body()).as("split at %d", split).isEqualTo(expected);
        assertThat(m.usage()).as("split at %d", split).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
      }
    }
  }

  @Test
  void oneByteReadsFromTheUpstreamGiveTheSameResult() throws IOException {
    assertThat(meter(SSE, true, null, Chunked.oneByteAtATime(OPENAI_SSE)).body()).isEqualTo(OPENAI_SSE_WITHOUT_USAGE);
    String crlf = OPENAI_SSE.replace("\n", "\r\n");
    Metered m = meter(SSE, true, null, Chunked.oneByteAtATime(crlf));
    assertThat(m.body()).isEqualTo(OPENAI_SSE_WITHOUT_USAGE.replace("\n", "\r\n"));
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    Metered a = meter(SSE, false, null, Chunked.oneByteAtATime(ANTHROPIC_SSE.replace("\n", "\r\n")));
    assertThat(a.body()).isEqualTo(ANTHROPIC_SSE.replace("\n", "\r\n"));
    assertThat(a.usage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 12));
  }

  @Test
  void randomReadSizesOnBothSidesGiveTheSameResult() throws IOException {
    java.util.Random random = new java.util.Random(42);
    for (int run = 0; run < 200; run++) {
      String stream = run % 2 == 0 ? OPENAI_SSE : OPENAI_SSE.replace("\n", "\r\n");
      String expected = run % 2 == 0 ? OPENAI_SSE_WITHOUT_USAGE : OPENAI_SSE_WITHOUT_USAGE.replace("\n", "\r\n");
      List<Usage> calls = new ArrayList<>();
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      try (InputStream in = UsageMeter.wrap(new Chunked(stream, r -> 1 + random.nextInt(300)), SSE, true, null,
          Duration.ZERO, calls::add)) {
        byte[] buf = new byte[1 + random.nextInt(400)];
        for (int n; (n = in.read(buf, 0, 1 + random.nextInt(buf.length))) >= 0; ) {
          assertThat(n).isPositive();
          seen.write(buf, 0, n);
        }
      }
      assertThat(seen.toString(StandardCharsets.UTF_8)).as("run %d", run).isEqualTo(expected);
      assertThat(calls).as("run %d", run).containsExactly(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    }
  }

  @Test
  void singleByteReadsByTheClientWork() throws IOException {
    List<Usage> calls = new ArrayList<>();
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    try (InputStream in = UsageMeter.wrap(bytes(OPENAI_SSE), SSE, true, null, Duration.ZERO, calls::add)) {
      for (int c; (c = in.read()) >= 0; ) {
        seen.write(c);
      }
    }
    assertThat(seen.toString(StandardCharsets.UTF_8)).isEqualTo(OPENAI_SSE_WITHOUT_USAGE);
    assertThat(calls).containsExactly(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
  }

  @Test
  void anInjectedRequestWhoseUpstreamSentNoUsageChunkLosesNothing() throws IOException {
    Metered m = meter(SSE, true, OPENAI_SSE_WITHOUT_USAGE);
    assertThat(m.body()).isEqualTo(OPENAI_SSE_WITHOUT_USAGE);
    assertThat(m.usage()).isNull();
  }

  @Test
  void onlyTheUsageOnlyChunkIsRemovedNotChunksThatMerelyCarryUsageOrNoChoices() throws IOException {
    // Azure sends a first chunk with no choices and prompt filter results; vLLM can put usage on every chunk.
    String azureFirst = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
        + "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n";
    String usageWithChoices = "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],"
        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n";
    String usageOnly = "data: {\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
    String later = "data: {\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}\n\n";
    Metered m = meter(SSE, true, azureFirst + usageWithChoices + usageOnly + later + OPENAI_DONE_EVENT);
    assertThat(m.body()).as("one usage chunk per stream is removed")
        .isEqualTo(azureFirst + usageWithChoices + later + OPENAI_DONE_EVENT);
    assertThat(m.usage()).isEqualTo(new Usage("m", 5, 3));
  }

  @Test
  void multiLineDataIsJoinedAndFieldsWithoutASpaceAreRead() throws IOException {
    String split = "data:{\"model\":\"m\",\"choices\":[],\ndata:  \"usage\":{\"prompt_tokens\":7,\ndata: \"completion_tokens\":8}}\n\n";
    Metered m = meter(SSE, true, OPENAI_HELLO_EVENT + split + OPENAI_DONE_EVENT);
    assertThat(m.body()).isEqualTo(OPENAI_HELLO_EVENT + OPENAI_DONE_EVENT);
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 7, 8));
  }

  @Test
  void commentsIdsRetriesAndBlankLinesPassThrough() throws IOException {
    String stream = ": keep-alive\n\n\n\nid: 7\nretry: 1000\n" + OPENAI_HELLO_EVENT + ":\n\n" + OPENAI_USAGE_EVENT
        + "dataset: not data\n\n" + OPENAI_DONE_EVENT;
    Metered m = meter(SSE, true, stream);
    assertThat(m.body()).isEqualTo(stream.replace(OPENAI_USAGE_EVENT, ""));
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
  }

  @Test
  void aStreamEndingWithoutItsLastBlankLineStillCounts() throws IOException {
    String cut = OPENAI_USAGE_EVENT.substring(0, OPENAI_USAGE_EVENT.length() - 2);
    Metered kept = meter(SSE, false, OPENAI_HELLO_EVENT + cut);
    assertThat(kept.body()).isEqualTo(OPENAI_HELLO_EVENT + cut);
    assertThat(kept.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    Metered removed = meter(SSE, true, OPENAI_HELLO_EVENT + cut);
    assertThat(removed.body()).isEqualTo(OPENAI_HELLO_EVENT);
    assertThat(removed.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    Metered half = meter(SSE, true, OPENAI_HELLO_EVENT + "data: {\"choi");
    assertThat(half.body()).as("a torn last event that is not usage reaches the client").isEqualTo(OPENAI_HELLO_EVENT + "data: {\"choi");
  }

  @Test
  void invalidJsonInEventsIsSkippedAndPassesThrough() throws IOException {
    String broken = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,,}\n\n";
    String notJson = "data: the \"usage\" : {is} not json\n\n";
    Metered m = meter(SSE, true, broken + notJson + OPENAI_USAGE_EVENT + OPENAI_DONE_EVENT);
    assertThat(m.body()).isEqualTo(broken + notJson + OPENAI_DONE_EVENT);
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
  }

  @Test
  void anEventOverTheCapPassesWholeUnreadAndLaterEventsStillCount() throws IOException {
    String huge = "data: {\"model\":\"huge\",\"choices\":[{\"delta\":{\"content\":\"" + "y".repeat(UsageMeter.MAX_EVENT_BYTES)
        + "\"}}],\"usage\":{\"prompt_tokens\":999,\"completion_tokens\":999}}\n\n";
    for (boolean injected : new boolean[] {false, true}) {
      Metered m = meter(SSE, injected, null, new Chunked(huge + OPENAI_USAGE_EVENT + OPENAI_DONE_EVENT, r -> 8192));
      assertThat(m.body()).isEqualTo(huge + (injected ? "" : OPENAI_USAGE_EVENT) + OPENAI_DONE_EVENT);
      assertThat(m.usage()).isEqualTo(new Usage("gpt-4o-mini-2024-07-18", 19, 10));
    }
  }

  @Test
  void usageNullChunksAreNotParsedButUsageObjectsAre() {
    assertThat(hasUsageObject("{\"choices\":[],\"usage\":null}")).isFalse();
    assertThat(hasUsageObject("{\"usage\" :\n {\"prompt_tokens\":1}}")).isTrue();
    assertThat(hasUsageObject("{\"text\":\"\\\"usage\\\": {\"}")).isFalse();
    assertThat(hasUsageObject("{\"usage\":null,\"message\":{\"usage\":{}}}")).isTrue();
    assertThat(hasUsageObject("\"usage\"")).isFalse();
  }

  private static boolean hasUsageObject(String json) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return EventStreamScanner.hasUsageObject(b, 0, b.length);
  }

  // --- Anthropic and Responses event streams ---------------------------------------------------------

  @Test
  void anthropicStreamTakesInputFromMessageStartAndTheLastOutputCount() throws IOException {
    Metered m = meter(SSE, false, ANTHROPIC_SSE);
    assertThat(m.body()).isEqualTo(ANTHROPIC_SSE);
    assertThat(m.usage()).isEqualTo(new Usage("claude-sonnet-4-5-20250929", 472, 12));
  }

  @Test
  void anthropicStreamIsNeverCutEvenWhenCalledInjected() throws IOException {
    assertThat(meter(SSE, true, ANTHROPIC_SSE).body()).isEqualTo(ANTHROPIC_SSE);
  }

  @Test
  void anthropicCachedTokensCountAsInputOnceEvenWhenRepeated() throws IOException {
    assertThat(meter(SSE, false, ANTHROPIC_CACHED_SSE).usage()).isEqualTo(new Usage("claude-opus-4-1-20250805", 1210, 85));
  }

  @Test
  void responsesStreamReadsTheCompletedEvent() throws IOException {
    Metered m = meter(SSE, false, RESPONSES_SSE);
    assertThat(m.body()).isEqualTo(RESPONSES_SSE);
    assertThat(m.usage()).isEqualTo(new Usage("gpt-4.1-2025-04-14", 37, 11));
  }

  @Test
  void aStreamWithoutUsageReportsNull() throws IOException {
    assertThat(meter(SSE, false, OPENAI_SSE_WITHOUT_USAGE).usage()).isNull();
    assertThat(meter(SSE, false, "").usage()).isNull();
  }

  // --- Ends, errors, the callback --------------------------------------------------------------------

  @Test
  void theCallbackIsCalledOnceAtTheEndWhateverFollows() throws IOException {
    List<Usage> calls = new ArrayList<>();
    InputStream in = UsageMeter.wrap(bytes(ANTHROPIC_SSE), SSE, false, null, Duration.ofSeconds(5), calls::add);
    in.readAllBytes();
    assertThat(calls).containsExactly(new Usage("claude-sonnet-4-5-20250929", 472, 12));
    assertThat(in.read()).isEqualTo(-1);
    in.close();
    in.close();
    assertThat(calls).hasSize(1);
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
  }

  @Test
  void aFailingUpstreamReportsWhatWasSeenAndTheErrorReachesTheReader() throws IOException {
    ScriptedUpstream upstream = new ScriptedUpstream();
    upstream.send(ANTHROPIC_START_EVENT);
    upstream.fail(new IOException("connection reset"));
    List<Usage> calls = new ArrayList<>();
    InputStream in = UsageMeter.wrap(upstream, SSE, false, null, Duration.ofSeconds(5), calls::add);
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isEqualTo(ANTHROPIC_START_EVENT.length());
    assertThatThrownBy(() -> in.read(buf)).hasMessage("connection reset");
    assertThat(calls).containsExactly(new Usage("claude-sonnet-4-5-20250929", 472, 2));
    in.close();
    assertThat(upstream.isClosed()).isTrue();
    assertThat(calls).hasSize(1);
  }

  @Test
  void aFailingUpstreamBeforeAnyUsageReportsNull() {
    ScriptedUpstream upstream = new ScriptedUpstream();
    upstream.fail(new IOException("connection reset"));
    List<Usage> calls = new ArrayList<>();
    InputStream in = UsageMeter.wrap(upstream, JSON, false, null, Duration.ofSeconds(5), calls::add);
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
    assertThat(calls).containsExactly((Usage) null);
  }

  @Test
  void aThrowingCallbackDoesNotBreakTheStream() throws IOException {
    try (InputStream in = UsageMeter.wrap(bytes(OPENAI_SSE), SSE, true, null, Duration.ZERO, usage -> {
      throw new IllegalStateException("the store is down");
    })) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(OPENAI_SSE_WITHOUT_USAGE);
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void availableNeverClaimsBytesHeldBackWithAnEvent() throws IOException {
    ScriptedUpstream upstream = new ScriptedUpstream();
    List<Usage> calls = new ArrayList<>();
    InputStream in = UsageMeter.wrap(upstream, SSE, true, null, Duration.ZERO, calls::add);
    upstream.send(OPENAI_HELLO_EVENT + "data: {\"choices\":[],");
    byte[] buf = new byte[64 * 1024];
    assertThat(in.read(buf)).isEqualTo(OPENAI_HELLO_EVENT.length());
    assertThat(in.available()).isZero();
    in.close();
    assertThat(calls).containsExactly((Usage) null);
  }
}
