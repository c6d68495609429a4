package dev.portalgateway.plugins.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.plugins.cache.McpNode.ClientRun;
import dev.portalgateway.plugins.cache.McpNode.Mode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The MCP test harness on its own, without the gateway: the SDK's client against the SDK's server
 * succeeds in every mode, the server's request log is complete, and an answer with a stale id (what
 * a cache that forgets to rewrite ids would send) fails the client's step.
 */
class McpNodeSelfTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Arguments> modes() {
    return Stream.of(Arguments.of(Mode.SSE, false), Arguments.of(Mode.JSON, false), Arguments.of(Mode.SSE, true));
  }

  @ParameterizedTest(name = "{0}, stateful: {1}")
  @MethodSource("modes")
  void theClientAcceptsEveryAnswerOfTheServer(Mode mode, boolean stateful) throws IOException {
    try (McpNode server = McpNode.start(mode, stateful)) {
      ClientRun run = server.runClient(server.url(), Map.of("Authorization", "Bearer self-test"));

      assertThat(run.ok()).as(run.describe()).isTrue();
      assertThat(run.stepNames()).isEqualTo(ClientRun.STEPS);
      assertThat(server.requests()).as(server.output()).containsExactly("initialize 0", "tools/list 1", "tools/list 2",
          "tools/call 3 counter", "tools/call 4 counter", "tools/call 5 static-info", "tools/call 6 static-info",
          "prompts/list 7", "resources/list 8", "resources/read 9 info://static");
      assertThat(server.count("tools/list")).isEqualTo(2);
      assertThat(server.count("tools/call")).isEqualTo(4);
      assertThat(server.count("tools/call", "counter")).isEqualTo(2);
      assertThat(server.notifications()).containsExactly("notifications/initialized");

      assertThat(names(run.result("tools/list#1").path("tools")))
          .containsExactly("echo", "counter", "static-info");
      assertThat(run.result("tools/list#2")).isEqualTo(run.result("tools/list#1"));
      assertThat(run.text("tools/call:counter#1")).isEqualTo("1");
      assertThat(run.text("tools/call:counter#2")).isEqualTo("2");
      assertThat(run.result("tools/call:static-info#2").path("structuredContent").path("build").asInt()).isEqualTo(42);
      assertThat(run.result("tools/call:static-info#2")).isEqualTo(run.result("tools/call:static-info#1"));
      assertThat(names(run.result("prompts/list").path("prompts"))).containsExactly("greeting");
      assertThat(run.result("resources/read").path("contents").path(0).path("text").asText())
          .isEqualTo("static resource text");

      String contentType = mode == Mode.JSON ? "application/json" : "text/event-stream";
      for (String step : ClientRun.STEPS) {
        for (JsonNode exchange : run.step(step).path("http")) {
          if (exchange.path("method").asText().equals("POST") && !exchange.path("ids").path(0).isNull()) {
            assertThat(exchange.path("status").asInt()).as(step).isEqualTo(200);
            assertThat(exchange.path("contentType").asText()).as(step).startsWith(contentType);
          }
        }
      }
      JsonNode listExchange = run.step("tools/list#2").path("http").path(0);
      assertThat(listExchange.path("ids").path(0).asInt()).isEqualTo(2);
      String sessionId = run.result("initialize").path("sessionId").asText(null);
      if (stateful) {
        assertThat(sessionId).isNotBlank();
        assertThat(listExchange.path("headers").path("mcp-session-id").asText()).isEqualTo(sessionId);
      } else {
        assertThat(sessionId).isNull();
        assertThat(listExchange.path("headers").has("mcp-session-id")).isFalse();
      }
    }
  }

  @Test
  void anAnswerWithAStaleIdFailsTheStep() throws IOException {
    try (McpNode server = McpNode.start(Mode.JSON);
         ReplayingProxy proxy = new ReplayingProxy(server.url())) {
      ClientRun run = server.runClient(proxy.url(), Map.of("Authorization", "Bearer replay"));

      assertThat(run.exitCode()).as(run.describe()).isEqualTo(1);
      assertThat(run.stepNames()).isEqualTo(ClientRun.STEPS);
      assertThat(run.failures()).as(run.describe()).singleElement().asString()
          .startsWith("tools/list#2: ").contains("unknown message ID");
      assertThat(server.count("tools/list")).isEqualTo(1);
      assertThat(proxy.authorizations).isNotEmpty().containsOnly("Bearer replay");
    }
  }

  @Test
  void aServerThatIsNotThereFailsInitialize() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    ClientRun run = McpNode.runClient(McpNode.defaultDirectory(), "http://127.0.0.1:" + port + "/mcp", Map.of());

    assertThat(run.exitCode()).as(run.describe()).isEqualTo(1);
    assertThat(run.ok()).isFalse();
    assertThat(run.stepNames()).containsExactly("initialize");
    assertThat(run.step("initialize").path("ok").asBoolean()).isFalse();
  }

  private static List<String> names(JsonNode array) {
    return array.valueStream().map(item -> item.path("name").asText()).toList();
  }

  /**
   * Forwards to an MCP server that answers in JSON, but answers every {@code tools/list} after the
   * first with the first one's answer, id and all.
   */
  private static final class ReplayingProxy implements AutoCloseable {
    private static final List<String> FORWARDED = List.of("Content-Type", "Accept", "Mcp-Protocol-Version",
        "Mcp-Session-Id", "Authorization");
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final String target;
    private final HttpServer server;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final AtomicReference<HttpResponse<byte[]>> firstList = new AtomicReference<>();

    ReplayingProxy(String target) throws IOException {
      this.target = target;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/", this::handle);
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/mcp";
    }

    private void handle(HttpExchange exchange) throws IOException {
      try (exchange) {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization != null) {
          authorizations.add(authorization);
        }
        boolean toolsList = body.length > 0 && "tools/list".equals(JSON.readTree(body).path("method").asText());
        HttpResponse<byte[]> response = toolsList ? firstList.get() : null;
        if (response == null) {
          response = forward(exchange, body);
          if (toolsList) {
            firstList.set(response);
          }
        }
        for (String name : List.of("Content-Type", "Mcp-Session-Id")) {
          response.headers().firstValue(name).ifPresent(value -> exchange.getResponseHeaders().set(name, value));
        }
        byte[] answer = response.body();
        exchange.sendResponseHeaders(response.statusCode(), answer.length == 0 ? -1 : answer.length);
        if (answer.length > 0) {
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
          }
        }
      }
    }

    private HttpResponse<byte[]> forward(HttpExchange exchange, byte[] body) throws IOException {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target)).method(exchange.getRequestMethod(),
          body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
      for (String name : FORWARDED) {
        String value = exchange.getRequestHeaders().getFirst(name);
        if (value != null) {
          request.header(name, value);
        }
      }
      try {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }

    @Override
    public void close() {
      server.stop(0);
      client.close();
    }
  }
}
