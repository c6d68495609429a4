package dev.portalgateway.plugins.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin as the gateway runs it: the built jar loaded from a plugins directory, real HTTP in
 * front, and behind it an MCP server speaking JSON-RPC over Streamable HTTP (answering in JSON or
 * in an event stream) that counts what reaches it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CacheGatewayIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path pluginsDir;

  private TestBackend backend;
  private TestGateway gateway;
  private final Map<String, AtomicInteger> upstreamCalls = new ConcurrentHashMap<>();
  private final AtomicInteger counter = new AtomicInteger();
  private final AtomicInteger pages = new AtomicInteger();
  private volatile boolean answerWithStream;
  private volatile long delayMillis;

  @BeforeAll
  static void installBuiltJar() throws Exception {
    Path jar = Path.of("target/cache-mcp.jar");
    assertThat(jar).as("the plugin jar, built in the package phase").exists();
    Files.copy(jar, pluginsDir.resolve("cache-mcp.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  @BeforeEach
  void startBackend() throws Exception {
    backend = new TestBackend()
        .route("/mcp", this::mcp)
        .route("/page", ex -> {
          pages.incrementAndGet();
          String cc = ex.getRequestURI().getQuery() == null ? "max-age=60" : ex.getRequestURI().getQuery().replace("cc=", "");
          ex.getResponseHeaders().set("Cache-Control", cc);
          ex.getResponseHeaders().set("ETag", "\"v1\"");
          ex.getResponseHeaders().set("Vary", "Accept-Language");
          TestBackend.respond(ex, 200, "text/plain", "page " + pages.get() + " for " + ex.getRequestHeaders().getFirst("Accept-Language"));
        })
        .route("/events", ex -> {
          ex.getResponseHeaders().set("Content-Type", "text/event-stream");
          ex.sendResponseHeaders(200, 0);
          try (OutputStream out = ex.getResponseBody()) {
            out.write("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n"
                .getBytes(StandardCharsets.UTF_8));
          }
        });
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    backend.close();
  }

  /** A small MCP server: tools/list, tools/call (echo, counter), resources/read, and an error. */
  private void mcp(HttpExchange ex) throws IOException {
    JsonNode req = JSON.readTree(ex.getRequestBody().readAllBytes());
    String method = req.path("method").asText();
    upstreamCalls.computeIfAbsent(method + (req.path("params").has("name") ? ":" + req.path("params").path("name").asText() : ""),
        k -> new AtomicInteger()).incrementAndGet();
    if (!req.has("id")) {
      ex.sendResponseHeaders(202, -1);
      return;
    }
    if (delayMillis > 0) {
      try {
        Thread.sleep(delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    String id = req.get("id").toString();
    String message = switch (method) {
      case "tools/list" -> "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"tools\":[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\"}}]}}";
      case "tools/call" -> "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\""
          + (req.path("params").path("name").asText().equals("counter") ? "count " + counter.incrementAndGet() : "echo")
          + "\"}]}}";
      case "resources/read" -> "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"contents\":[{\"uri\":\""
          + req.path("params").path("uri").asText() + "\",\"text\":\"static\"}]}}";
      default -> "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}";
    };
    if (answerWithStream) {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(("event: message\ndata: " + message + "\n\n").getBytes(StandardCharsets.UTF_8));
      }
    } else {
      TestBackend.respond(ex, 200, "application/json", message);
    }
  }

  private void start(String pluginSettings) throws Exception {
    gateway = TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir + "\"\n"
        + "upstreams:\n  mcp: \"" + backend.url() + "\"\n"
        + "plugins:\n  cache-mcp:\n" + (pluginSettings.isEmpty() ? "    max_bytes: 1MiB\n" : pluginSettings), null);
  }

  private HttpResponse<String> call(String id, String method, String params, String accept) throws Exception {
    String body = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\"" + (params == null ? "" : ",\"params\":" + params) + "}";
    return gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/mcp/mcp")).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").header("Accept", accept)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> call(String id, String method, String params) throws Exception {
    return call(id, method, params, "application/json, text/event-stream");
  }

  private int upstream(String what) {
    AtomicInteger n = upstreamCalls.get(what);
    return n == null ? 0 : n.get();
  }

  @Test
  void theSecondToolsListIsAHitThatCarriesTheNewRequestsId() throws Exception {
    start("");
    HttpResponse<String> first = call("1", "tools/list", null);
    assertThat(first.headers().firstValue("X-Cache")).hasValue("MISS");
    HttpResponse<String> second = call("\"second\"", "tools/list", null);
    assertThat(second.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(second.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode answer = JSON.readTree(second.body());
    assertThat(answer.get("id").asText()).isEqualTo("second");
    assertThat(answer.get("jsonrpc").asText()).isEqualTo("2.0");
    assertThat(answer.get("result")).isEqualTo(JSON.readTree(first.body()).get("result"));
    assertThat(upstream("tools/list")).isEqualTo(1);
    assertThat(gateway.metrics()).contains("portal_gateway_cache_mcp_requests_total{kind=\"mcp\",result=\"hit\",} 1.0");
  }

  @Test
  void aToolCallNotListedAsCacheableIsAlwaysAMissAndAListedOneIsCached() throws Exception {
    start("    mcp:\n      tools: { echo: 1m }\n");
    for (int i = 1; i <= 3; i++) {
      HttpResponse<String> r = call(Integer.toString(i), "tools/call", "{\"name\":\"counter\",\"arguments\":{}}");
      assertThat(r.headers().firstValue("X-Cache")).hasValue("MISS");
      assertThat(r.body()).contains("count " + i);
    }
    assertThat(upstream("tools/call:counter")).isEqualTo(3);
    call("10", "tools/call", "{\"name\":\"echo\",\"arguments\":{\"text\":\"a\"}}");
    HttpResponse<String> again = call("11", "tools/call", "{\"arguments\":{\"text\":\"a\"},\"name\":\"echo\"}");
    assertThat(again.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(JSON.readTree(again.body()).get("id").asInt()).isEqualTo(11);
    HttpResponse<String> other = call("12", "tools/call", "{\"name\":\"echo\",\"arguments\":{\"text\":\"b\"}}");
    assertThat(other.headers().firstValue("X-Cache")).as("other arguments, another entry").hasValue("MISS");
    assertThat(upstream("tools/call:echo")).isEqualTo(2);
  }

  @Test
  void streamedAnswersAreCachedAndServedInTheFormTheClientAccepts() throws Exception {
    answerWithStream = true;
    start("");
    HttpResponse<String> first = call("1", "resources/read", "{\"uri\":\"file:///a\"}");
    assertThat(first.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    assertThat(first.headers().firstValue("X-Cache")).hasValue("MISS");
    HttpResponse<String> json = call("2", "resources/read", "{\"uri\":\"file:///a\"}");
    assertThat(json.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(JSON.readTree(json.body()).path("result").path("contents").get(0).path("text").asText()).isEqualTo("static");
    HttpResponse<String> stream = call("3", "resources/read", "{\"uri\":\"file:///a\"}", "text/event-stream");
    assertThat(stream.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    assertThat(stream.body()).startsWith("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":");
    assertThat(upstream("resources/read")).isEqualTo(1);
  }

  @Test
  void errorsNotificationsAndBatchesAreNeverCached() throws Exception {
    start("    mcp:\n      ttl: { tools/list: 1m, no/such-method: 1m }\n");
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> r = call(Integer.toString(i), "no/such-method", null);
      assertThat(r.body()).contains("\"error\"");
      assertThat(r.headers().firstValue("X-Cache")).hasValue("MISS");
    }
    assertThat(upstream("no/such-method")).isEqualTo(2);
    HttpResponse<String> notification = gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/mcp/mcp"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(notification.headers().firstValue("X-Cache")).hasValue("BYPASS");
  }

  @Test
  void aHundredConcurrentIdenticalMissesMakeOneUpstreamRequest() throws Exception {
    start("");
    delayMillis = 300; // long enough for every request to arrive while the first is upstream
    int n = 100;
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    CountDownLatch go = new CountDownLatch(1);
    List<Future<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = Integer.toString(1000 + i);
      answers.add(pool.submit(() -> {
        go.await();
        return call(id, "tools/list", null);
      }));
    }
    go.countDown();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = answers.get(i).get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(r.body()).get("id").asInt()).as("each answer carries its own id").isEqualTo(1000 + i);
    }
    pool.shutdown();
    assertThat(upstream("tools/list")).isEqualTo(1);
  }

  @Test
  void twoMcpEndpointsOnOneRouteKeepTheirOwnAnswers() throws Exception {
    start("");
    call("1", "tools/list", null);
    HttpResponse<String> other = gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/mcp/mcp/other"))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(other.headers().firstValue("X-Cache")).hasValue("MISS");
    assertThat(upstream("tools/list")).isEqualTo(2);
  }

  @Test
  void aListChangedNotificationFromTheLeaseDropsItsEntries() throws Exception {
    start("");
    call("1", "tools/list", null);
    assertThat(call("2", "tools/list", null).headers().firstValue("X-Cache")).hasValue("HIT");
    // The server tells a client, on a stream through the gateway, that its tools changed.
    assertThat(gateway.get("/peer/mcp/events").body()).contains("list_changed");
    assertThat(call("3", "tools/list", null).headers().firstValue("X-Cache")).hasValue("MISS");
    assertThat(upstream("tools/list")).isEqualTo(2);
  }

  @Test
  void theAdminEndpointPurgesALease() throws Exception {
    start("");
    call("1", "tools/list", null);
    HttpResponse<String> purge = gateway.client().send(HttpRequest.newBuilder(gateway.adminUri("/plugins/cache-mcp/purge?lease=mcp"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(purge.statusCode()).isEqualTo(200);
    assertThat(purge.body()).isEqualTo("{\"purged\":1,\"lease\":\"mcp\"}");
    assertThat(call("2", "tools/list", null).headers().firstValue("X-Cache")).hasValue("MISS");
    HttpResponse<String> get = gateway.client().send(HttpRequest.newBuilder(gateway.adminUri("/plugins/cache-mcp/purge")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
  }

  @Test
  void plainGetsFollowCacheControlVaryAndValidators() throws Exception {
    start("");
    HttpResponse<String> first = gateway.get("/peer/mcp/page", "Accept-Language", "en");
    assertThat(first.headers().firstValue("X-Cache")).hasValue("MISS");
    HttpResponse<String> hit = gateway.get("/peer/mcp/page", "Accept-Language", "en");
    assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(hit.body()).isEqualTo(first.body());
    assertThat(hit.headers().firstValue("Age")).isPresent();
    HttpResponse<String> notModified = gateway.get("/peer/mcp/page", "Accept-Language", "en", "If-None-Match", "\"v1\"");
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(gateway.get("/peer/mcp/page", "Accept-Language", "de").headers().firstValue("X-Cache"))
        .as("Vary: another language is another answer").hasValue("MISS");
    assertThat(pages.get()).isEqualTo(2);

    gateway.get("/peer/mcp/page?cc=no-store");
    assertThat(gateway.get("/peer/mcp/page?cc=no-store").headers().firstValue("X-Cache")).hasValue("MISS");
    gateway.get("/peer/mcp/page?cc=private,max-age=60");
    assertThat(gateway.get("/peer/mcp/page?cc=private,max-age=60").headers().firstValue("X-Cache")).hasValue("MISS");
    assertThat(gateway.get("/peer/mcp/page", "Accept-Language", "en", "Authorization", "Basic eDp5").headers()
        .firstValue("X-Cache")).hasValue("BYPASS");
    assertThat(pages.get()).isEqualTo(7);
  }
}
