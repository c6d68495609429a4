package dev.portalgateway.plugins.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzz targets for what the MCP cache reads: event streams ({@link SseEvents}), JSON-RPC calls
 * from clients ({@link McpCall}) and answers from servers ({@link McpAnswers}). Replayed on
 * {@code src/test/resources/dev/portalgateway/plugins/cache/McpFuzzTestInputs/<method>/} by every
 * test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class McpFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Numbers compared by value, everything else by equality. */
  private static final java.util.Comparator<JsonNode> SAME_NUMBERS = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue());
    }
    return a.equals(b) ? 0 : 1;
  };
  /** One JSON value and nothing after it. */
  private static final com.fasterxml.jackson.databind.ObjectReader ONE_VALUE =
      JSON.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * A whole event stream: the data of each event exactly as the SSE specification reads it
   * (lines end at CRLF, LF or CR; a {@code data} field, with or without a colon, loses one
   * leading space; data lines join with LF; a blank line ends an event that has data), plus, as
   * SseEvents documents, an event the stream ended without a blank line after.
   */
  @FuzzTest
  void sseEvents(byte[] body) {
    List<byte[]> got = SseEvents.dataOf(body);
    List<String> expected = referenceEvents(body);
    List<String> actual = new ArrayList<>();
    for (byte[] data : got) {
      actual.add(new String(data, StandardCharsets.ISO_8859_1));
    }
    assertThat(actual).isEqualTo(expected);
  }

  private static List<String> referenceEvents(byte[] body) {
    String text = new String(body, StandardCharsets.ISO_8859_1);
    List<String> events = new ArrayList<>();
    StringBuilder data = null;
    String[] lines = text.split("\r\n|\n|\r", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      boolean last = i == lines.length - 1; // the text after the final line end: not a line
      if (line.isEmpty()) {
        if (!last && data != null) {
          events.add(data.toString());
          data = null;
        }
        continue;
      }
      int colon = line.indexOf(':');
      String field = colon < 0 ? line : line.substring(0, colon);
      String value = colon < 0 ? "" : line.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      if (field.equals("data")) {
        data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
      }
    }
    if (data != null) {
      events.add(data.toString());
    }
    return events;
  }

  /**
   * A request body: not a call ({@code null}), or a call whose id is the request's id as JSON and
   * whose cache key part (the canonical params) is JSON that reads back to the same value, so
   * two calls share a key only when their params mean the same.
   */
  @FuzzTest
  void mcpCall(byte[] body) throws IOException {
    McpCall call = McpCall.parse(body);
    if (call == null) {
      return;
    }
    JsonNode root = McpCall.JSON.readTree(body); // numbers read as the cache reads them
    assertThat(McpCall.JSON.readTree(call.idJson())).isEqualTo(root.get("id"));
    assertThat(call.method()).isEqualTo(root.get("method").asText());
    JsonNode canonical = McpCall.JSON.readTree(call.canonicalParams());
    JsonNode params = root.get("params");
    if (params == null || params.isNull()) {
      assertThat(call.canonicalParams()).isEqualTo("{}");
    } else {
      JsonNode expected = params.deepCopy();
      if (expected.isObject()) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected).remove("_meta");
      }
      // Equal up to how a number is written (1.0 and 1, -0.0 and 0 mean the same to a server).
      assertThat(canonical.equals(SAME_NUMBERS, expected)).as("canonical params %s of %s", call.canonicalParams(), expected)
          .isTrue();
    }
    assertThat(McpCall.canonical(canonical)).isEqualTo(call.canonicalParams());
  }

  /**
   * Answers: the result found in a server's message (JSON or stream) is one JSON value, the
   * {@code result} of a success answer to that id; and a cached result written back as the answer
   * to another request, as JSON or as a stream, reads back as the same result. Input: a byte
   * whose low two bits pick the content type and whose third bit asks for a stream answer, the
   * request's id as JSON up to a line end, then the server's body.
   */
  @FuzzTest
  void mcpAnswers(byte[] input) throws IOException {
    if (input.length < 1) {
      return;
    }
    String contentType = switch (input[0] & 3) {
      case 0 -> "application/json";
      case 1 -> "text/event-stream";
      case 2 -> "application/vnd.x+json; charset=utf-8";
      default -> "text/plain";
    };
    boolean stream = (input[0] & 4) != 0;
    int newline = 1;
    while (newline < input.length && input[newline] != '\n') {
      newline++;
    }
    String id = new String(input, 1, newline - 1, StandardCharsets.UTF_8);
    String idJson;
    try {
      JsonNode node = ONE_VALUE.readTree(id);
      idJson = node != null && (node.isIntegralNumber() || node.isTextual()) ? JSON.writeValueAsString(node)
          : JSON.writeValueAsString(id);
    } catch (IOException e) {
      idJson = JSON.writeValueAsString(id);
    }
    byte[] body = java.util.Arrays.copyOfRange(input, Math.min(input.length, newline + 1), input.length);

    byte[] result = McpAnswers.result(contentType, body, idJson);
    if (result != null) {
      JsonNode value = ONE_VALUE.readTree(result);
      assertThat(value).as("a result that is not one JSON value").isNotNull();
    }
    byte[] candidate = result != null ? result : body;
    if (!utf8WithoutNul(candidate)) {
      return; // a cached result is UTF-8 JSON: what a UTF-8 message held
    }
    JsonNode value;
    try {
      value = ONE_VALUE.readTree(candidate);
    } catch (IOException notJson) {
      return;
    }
    if (value == null || value.isMissingNode()) {
      return;
    }
    Response answer = McpAnswers.answer(candidate, idJson, stream, Headers.empty());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (var in = answer.body().open()) {
      in.transferTo(bytes);
    }
    String type = answer.headers().first("Content-Type");
    byte[] again = McpAnswers.result(type, bytes.toByteArray(), idJson);
    assertThat(again).as("a cached answer that does not read back").isNotNull();
    assertThat(ONE_VALUE.readTree(again)).isEqualTo(value);
  }

  private static boolean utf8WithoutNul(byte[] bytes) {
    for (byte b : bytes) {
      if (b == 0) {
        return false;
      }
    }
    if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
      return false; // a byte order mark: only ever at the start of a whole body
    }
    try {
      StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes));
      return true;
    } catch (java.nio.charset.CharacterCodingException e) {
      return false;
    }
  }
}
