package dev.portalgateway.plugins.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Response;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class McpAnswersTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void callsAreParsedWithCanonicalParams() {
    McpCall a = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/read\",\"params\":{\"uri\":\"file:///a\",\"x\":{\"b\":1,\"a\":[2,{\"d\":1,\"c\":2}]}}}"));
    McpCall b = McpCall.parse(b("{ \"params\": {\"x\":{\"a\":[2,{\"c\":2,\"d\":1}], \"b\":1}, \"uri\":\"file:///a\"}, \"method\":\"resources/read\", \"id\":\"seven\", \"jsonrpc\":\"2.0\"}"));
    assertThat(a.method()).isEqualTo("resources/read");
    assertThat(a.idJson()).isEqualTo("7");
    assertThat(b.idJson()).isEqualTo("\"seven\"");
    assertThat(a.canonicalParams()).isEqualTo(b.canonicalParams()).isEqualTo("{\"uri\":\"file:///a\",\"x\":{\"a\":[2,{\"c\":2,\"d\":1}],\"b\":1}}");
  }

  /** Found by McpFuzzTest.mcpCall: 1e400 read as a double became the string "Infinity" in the key. */
  @Test
  void numbersTooLargeForADoubleDoNotShareAKeyWithAString() {
    McpCall number = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"x\":1e400}}"));
    McpCall text = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"x\":\"Infinity\"}}"));
    McpCall other = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"x\":2e400}}"));
    assertThat(number.canonicalParams()).isNotEqualTo(text.canonicalParams()).isNotEqualTo(other.canonicalParams());
    McpCall a = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"x\":1.0,\"y\":0.1}}"));
    McpCall c = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"y\":0.10,\"x\":1.00}}"));
    assertThat(a.canonicalParams()).isEqualTo(c.canonicalParams());
    assertThat(McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"x\":1e99999999999}}")))
        .as("a number no BigDecimal holds: not a call to cache, and no exception").isNull();
  }

  @Test
  void progressTokensDoNotChangeTheKey() {
    McpCall a = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"progressToken\":5}}}"));
    McpCall b = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}"));
    assertThat(a.canonicalParams()).isEqualTo(b.canonicalParams());
    McpCall none = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}"));
    assertThat(none.canonicalParams()).as("no params asks what empty params ask").isEqualTo(b.canonicalParams());
  }

  @Test
  void notificationsBatchesResponsesAndNonsenseAreNotCalls() {
    assertThat(McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"))).isNull();
    assertThat(McpCall.parse(b("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]"))).isNull();
    assertThat(McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"))).isNull();
    assertThat(McpCall.parse(b("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"tools/list\"}"))).isNull();
    assertThat(McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"tools/list\"}"))).isNull();
    assertThat(McpCall.parse(b("not json"))).isNull();
    McpCall call = McpCall.parse(b("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{}}}"));
    assertThat(call.toolName()).isEqualTo("echo");
  }

  @Test
  void theResultIsTakenAsTheServerWroteIt() {
    String result = "{ \"tools\" : [ {\"name\":\"echo\",  \"description\":\"caf\u00e9\"} ] }";
    byte[] body = b("{\"result\":" + result + ",\"jsonrpc\":\"2.0\",\"id\":7}");
    assertThat(s(McpAnswers.result("application/json", body, "7"))).isEqualTo(result);
    assertThat(McpAnswers.result("application/json", body, "8")).as("another id").isNull();
    assertThat(McpAnswers.result("application/json", body, "\"7\"")).as("a string id is not a number id").isNull();
    assertThat(McpAnswers.result("application/json",
        b("{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32601,\"message\":\"no\"}}"), "7")).isNull();
    assertThat(McpAnswers.result("application/json", b("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}} trailing"), "7"))
        .isNull();
  }

  /** Found by McpFuzzTest.mcpAnswers: a string result was cut after its opening quote. */
  @Test
  void aResultThatIsAStringIsTakenWhole() {
    assertThat(s(McpAnswers.result("application/json", b("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"done\"}"), "7")))
        .isEqualTo("\"done\"");
    assertThat(s(McpAnswers.result("application/json", b("{\"result\":\"a\\\"b\",\"jsonrpc\":\"2.0\",\"id\":7}"), "7")))
        .isEqualTo("\"a\\\"b\"");
  }

  /** Found by McpFuzzTest.sseEvents: a "data" line without a colon is an empty data line. */
  @Test
  void aDataLineWithoutAColonIsAnEmptyDataLine() {
    assertThat(SseEvents.dataOf(b("data\ndata: {\"a\":1}\n\n"))).map(McpAnswersTest::s).containsExactly("\n{\"a\":1}");
    assertThat(SseEvents.dataOf(b("database: x\ndata\n\n"))).map(McpAnswersTest::s).containsExactly("");
  }

  @Test
  void theResultIsFoundInAnEventStreamAmongNotifications() {
    byte[] body = b("event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\r\n\r\n"
        + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"prompts\":[]}}\n\n");
    assertThat(s(McpAnswers.result("text/event-stream", body, "\"a\""))).isEqualTo("{\"prompts\":[]}");
  }

  @Test
  void aCachedResultAnswersAnotherIdAsJsonOrAsOneEvent() throws Exception {
    byte[] result = b("{\"tools\":[\n  {\"name\":\"echo\"}\n]}");
    Response json = McpAnswers.answer(result, "42", false, Headers.of("X-Cache", "HIT"));
    assertThat(json.headers().first("Content-Type")).isEqualTo("application/json");
    assertThat(s(json.body().readAll(1 << 20))).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"tools\":[\n  {\"name\":\"echo\"}\n]}}");

    Response sse = McpAnswers.answer(result, "\"x\"", true, Headers.empty());
    String text = s(sse.body().readAll(1 << 20));
    assertThat(text).startsWith("event: message\ndata: ").endsWith("\n\n");
    assertThat(s(SseEvents.dataOf(b(text)).get(0)))
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"tools\":[\n  {\"name\":\"echo\"}\n]}}");
  }

  @Test
  void jsonIsPreferredWheneverTheClientAcceptsIt() {
    assertThat(McpAnswers.wantsStream("application/json, text/event-stream")).isFalse();
    assertThat(McpAnswers.wantsStream(null)).isFalse();
    assertThat(McpAnswers.wantsStream("text/event-stream")).isTrue();
  }
}
