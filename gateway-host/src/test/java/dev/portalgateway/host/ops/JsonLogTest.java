package dev.portalgateway.host.ops;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JsonLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

  @BeforeEach
  void captureTheLog() {
    JsonLog.redirect(new PrintStream(buffer, true, UTF_8));
    JsonLog.threshold(Level.INFO);
  }

  @AfterEach
  void restoreTheLog() {
    JsonLog.redirect(System.out);
    JsonLog.threshold(Level.INFO);
  }

  /** @return each line written, parsed; fails when a line is not a JSON object */
  private List<JsonNode> lines() throws Exception {
    String text = buffer.toString(UTF_8);
    List<JsonNode> parsed = new ArrayList<>();
    if (text.isEmpty()) {
      return parsed;
    }
    assertThat(text).endsWith("\n");
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode node = JSON.readTree(line);
      assertThat(node.isObject()).as(line).isTrue();
      parsed.add(node);
    }
    return parsed;
  }

  private JsonNode onlyLine() throws Exception {
    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(1);
    return lines.get(0);
  }

  @Test
  void aLineHasTimestampLevelLoggerAndMessage() throws Exception {
    Instant before = Instant.now();
    JsonLog.info("proxy", "upstream answered");
    JsonNode line = onlyLine();

    assertThat(line.get("level").textValue()).isEqualTo("INFO");
    assertThat(line.get("logger").textValue()).isEqualTo("proxy");
    assertThat(line.get("msg").textValue()).isEqualTo("upstream answered");
    // An ISO-8601 instant of about now (the window is wide: this is not a timing test).
    Instant ts = Instant.parse(line.get("ts").textValue());
    assertThat(ts).isBetween(before.minusSeconds(300), Instant.now().plusSeconds(300));
    List<String> names = new ArrayList<>();
    line.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactly("ts", "level", "logger", "msg");
  }

  @Test
  void fieldsFollowInOrderWithTheirTypes() throws Exception {
    JsonLog.info("access", "request", "status", 200, "bytes", 12345678901L, "ratio", 0.25, "ok", true,
        "route", "backend", "user", null);
    JsonNode line = onlyLine();

    assertThat(line.get("status").isInt()).isTrue();
    assertThat(line.get("status").intValue()).isEqualTo(200);
    assertThat(line.get("bytes").longValue()).isEqualTo(12345678901L);
    assertThat(line.get("ratio").doubleValue()).isEqualTo(0.25);
    assertThat(line.get("ok").booleanValue()).isTrue();
    assertThat(line.get("route").textValue()).isEqualTo("backend");
    assertThat(line.get("user").isNull()).isTrue();
    List<String> names = new ArrayList<>();
    line.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactly("ts", "level", "logger", "msg", "status", "bytes", "ratio", "ok", "route", "user");
  }

  @Test
  void stringsThatNeedEscapingRoundTrip() throws Exception {
    String nasty = "quote \" backslash \\ newline \n tab \t cr \r nul \u0000 bell \u0007 unicode é ✓ \uD83D\uDE00 </script>";
    JsonLog.warn("plugin.x", nasty, "detail", nasty, "key with \"quotes\"\n", "v");
    JsonNode line = onlyLine();

    assertThat(line.get("level").textValue()).isEqualTo("WARNING");
    assertThat(line.get("msg").textValue()).isEqualTo(nasty);
    assertThat(line.get("detail").textValue()).isEqualTo(nasty);
    assertThat(line.get("key with \"quotes\"\n").textValue()).isEqualTo("v");
    // One line per entry, whatever the values hold.
    assertThat(buffer.toString(UTF_8).split("\n")).hasSize(1);
  }

  @Test
  void aThrowableIsWrittenAsItsTypeAndMessageWithoutStackTrace() throws Exception {
    JsonLog.error("proxy", "upstream failed", "error", new IllegalStateException("socket \"closed\"\nbadly"));
    JsonNode line = onlyLine();

    assertThat(line.get("level").textValue()).isEqualTo("ERROR");
    assertThat(line.get("error").textValue()).isEqualTo("IllegalStateException: socket \"closed\"\nbadly");
    assertThat(buffer.toString(UTF_8)).doesNotContain("at dev.portalgateway");
  }

  @Test
  void otherObjectsAreWrittenAsTheirString() throws Exception {
    JsonLog.info("x", null, "path", java.nio.file.Path.of("/tmp/a \"b\""), "list", List.of(1, 2));
    JsonNode line = onlyLine();

    assertThat(line.has("msg")).isFalse();
    assertThat(line.get("path").textValue()).isEqualTo("/tmp/a \"b\"");
    assertThat(line.get("list").textValue()).isEqualTo("[1, 2]");
  }

  @Test
  void anOddTrailingKeyIsIgnored() throws Exception {
    JsonLog.info("x", "m", "a", 1, "dangling");
    JsonNode line = onlyLine();

    assertThat(line.get("a").intValue()).isEqualTo(1);
    assertThat(line.has("dangling")).isFalse();
  }

  @Test
  void writeTakesAMapOfFields() throws Exception {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("event", "auth_failure");
    fields.put("count", 3);
    fields.put("reason", null);
    JsonLog.write(Level.WARNING, "plugin.auth", "authentication failed", fields);
    JsonLog.write(Level.INFO, "plugin.auth", null, null);
    List<JsonNode> lines = lines();

    assertThat(lines).hasSize(2);
    assertThat(lines.get(0).get("event").textValue()).isEqualTo("auth_failure");
    assertThat(lines.get(0).get("count").intValue()).isEqualTo(3);
    assertThat(lines.get(0).get("reason").isNull()).isTrue();
    assertThat(lines.get(1).get("logger").textValue()).isEqualTo("plugin.auth");
    assertThat(lines.get(1).has("msg")).isFalse();
  }

  @Test
  void linesBelowTheThresholdAreDropped() throws Exception {
    JsonLog.threshold(Level.WARNING);

    JsonLog.info("x", "dropped");
    JsonLog.log(Level.DEBUG, "x", "dropped too");
    JsonLog.write(Level.INFO, "x", "dropped as well", Map.of());
    JsonLog.warn("x", "kept warning");
    JsonLog.error("x", "kept error");

    assertThat(lines()).extracting(n -> n.get("msg").textValue()).containsExactly("kept warning", "kept error");
    assertThat(JsonLog.enabled(Level.INFO)).isFalse();
    assertThat(JsonLog.enabled(Level.ERROR)).isTrue();
  }

  @Test
  void aLowerThresholdLetsDebugThrough() throws Exception {
    JsonLog.threshold(Level.DEBUG);

    JsonLog.log(Level.DEBUG, "x", "debug line");
    JsonLog.log(Level.TRACE, "x", "trace line");

    assertThat(lines()).extracting(n -> n.get("msg").textValue()).containsExactly("debug line");
  }

  @Test
  void offIsNeverWritten() throws Exception {
    JsonLog.threshold(Level.ALL);

    JsonLog.log(Level.OFF, "x", "never");

    assertThat(JsonLog.enabled(Level.OFF)).isFalse();
    assertThat(lines()).isEmpty();
  }

  @Test
  void theSystemLoggerWritesThroughTheLog() throws Exception {
    System.Logger logger = JsonLog.systemLogger("plugin.example");

    logger.log(Level.INFO, "hello {0}", "world");
    logger.log(Level.ERROR, "failed", new RuntimeException("boom"));
    logger.log(Level.DEBUG, "filtered");
    List<JsonNode> lines = lines();

    assertThat(logger.getName()).isEqualTo("plugin.example");
    assertThat(logger.isLoggable(Level.DEBUG)).isFalse();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0).get("logger").textValue()).isEqualTo("plugin.example");
    assertThat(lines.get(0).get("msg").textValue()).isEqualTo("hello world");
    assertThat(lines.get(1).get("level").textValue()).isEqualTo("ERROR");
    assertThat(lines.get(1).get("error").textValue()).isEqualTo("RuntimeException: boom");
  }

  @Test
  void nonFiniteNumbersStillMakeValidJson() throws Exception {
    JsonLog.info("x", "m", "ratio", Double.NaN, "rate", Float.POSITIVE_INFINITY);

    JsonNode line = onlyLine();
    assertThat(line.has("ratio")).isTrue();
  }

  @Test
  void timestampsAreWrittenExactlyAsInstantWritesThem() {
    // Each fraction width Instant.toString uses, and seconds that change, go back and come again.
    String[] instants = {"2026-11-26T16:30:29Z", "2026-11-26T16:30:29.123Z", "2026-11-26T16:30:29.100Z",
        "2026-11-26T16:30:29.123456Z", "2026-11-26T16:30:29.000001Z", "2026-11-26T16:30:29.123456789Z",
        "2026-11-26T16:30:29.000000001Z", "2026-11-26T16:30:30.5Z", "2026-11-26T16:30:29.25Z",
        "1970-01-01T00:00:00Z", "2099-12-31T23:59:59.999999999Z"};
    for (String text : instants) {
      Instant t = Instant.parse(text);
      StringBuilder sb = new StringBuilder();
      JsonLog.timestamp(sb, t);
      assertThat(sb.toString()).as(text).isEqualTo(t.toString());
    }
  }

  @Test
  void anAccessLogLineHasEveryFieldInOrderTypedAndTheQueryRedacted() throws Exception {
    AccessLog.write(new AccessLog.Entry("req-1", "POST", "/peer/demo/a \"b\"", "x=1&api_key=sk_live_secret&y=2",
        "demo", 201, 1_234_567, 456_789, 10, 20_000_000_000L, "192.0.2.1", "curl/8.5.0 \u00e9", null, "ok"));
    AccessLog.write(new AccessLog.Entry("req-2", "GET", "/nowhere", null, null, 404, 50_000, -1, 0, 0, "::1", null,
        "key-1", "client-gone"));
    JsonLog.flush();
    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(2);
    JsonNode first = lines.get(0);
    List<String> names = new ArrayList<>();
    first.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactly("ts", "level", "logger", "request_id", "method", "path", "route", "status",
        "duration_ms", "upstream_ms", "bytes_in", "bytes_out", "client", "user_agent", "principal", "outcome");
    assertThat(first.get("logger").textValue()).isEqualTo("access");
    assertThat(first.get("path").textValue()).startsWith("/peer/demo/a \"b\"?x=1&api_key=").endsWith("&y=2")
        .doesNotContain("sk_live_secret");
    assertThat(first.get("status").intValue()).isEqualTo(201);
    assertThat(first.get("duration_ms").doubleValue()).isEqualTo(1.23);
    assertThat(first.get("upstream_ms").doubleValue()).isEqualTo(0.46);
    assertThat(first.get("bytes_out").longValue()).isEqualTo(20_000_000_000L);
    assertThat(first.get("user_agent").textValue()).isEqualTo("curl/8.5.0 \u00e9");
    assertThat(first.get("principal").isNull()).isTrue();
    JsonNode second = lines.get(1);
    assertThat(second.get("path").textValue()).isEqualTo("/nowhere");
    assertThat(second.get("route").isNull()).isTrue();
    assertThat(second.get("upstream_ms").isNull()).isTrue();
    assertThat(second.get("principal").textValue()).isEqualTo("key-1");
    assertThat(second.get("outcome").textValue()).isEqualTo("client-gone");
  }
}
