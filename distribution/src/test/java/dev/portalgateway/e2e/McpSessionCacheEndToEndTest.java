package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * cache-mcp in front of a real MCP server that tailors its answers to the session
 * ({@code @modelcontextprotocol/server-everything}: a client that declares sampling, elicitation
 * and roots gets 16 tools, one that declares none gets 13), with the official SDK client, through
 * the built gateway: each session gets exactly what the server gives it, never another session's
 * list, never another session's private resource; a session the gateway did not see start gets the
 * server's own answer, not a cached 200;
 * and a session's second list is a hit, also after a configuration reload.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class McpSessionCacheEndToEndTest {
  private static final String ALL_CAPS = "sampling,elicitation,roots";

  @TempDir
  Path dir;

  private ServerEverything everything;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws Exception {
    everything = ServerEverything.start(dir);
  }

  @AfterEach
  void stop() throws Exception {
    everything.close();
    http.shutdownNow();
  }

  private String config(String comment) {
    return """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          config_reload_interval: 100ms
        relay:
          enabled: false
        upstreams:
          everything: "http://127.0.0.1:%d"
        plugins:
          cache-mcp: {}   # %s
        """.formatted(everything.port, comment);
  }

  @Test
  void eachSessionGetsTheToolsTheServerGivesItAndItsSecondListIsAHit() throws Exception {
    String direct = "http://127.0.0.1:" + everything.port + "/mcp";
    String withCaps = names(ServerEverything.runNode("session-client.mjs", direct, "--caps", ALL_CAPS));
    String without = names(ServerEverything.runNode("session-client.mjs", direct));
    assertThat(withCaps).isNotEqualTo(without); // the server really tailors the list

    Path configFile = dir.resolve("gateway.yaml");
    Files.writeString(configFile, config("first"));
    try (GatewayProcess gateway = GatewayProcess.serve(dir, configFile)) {
      String url = "http://127.0.0.1:" + gateway.port + "/peer/everything/mcp";
      // Both orders: whichever list the cache saw first must not reach the other session.
      for (List<Boolean> order : List.of(List.of(true, false), List.of(false, true))) {
        for (boolean caps : order) {
          String out = caps ? ServerEverything.runNode("session-client.mjs", url, "--caps", ALL_CAPS)
              : ServerEverything.runNode("session-client.mjs", url);
          assertThat(names(out)).as("caps=%s", caps).isEqualTo(caps ? withCaps : without);
          assertThat(out).as("caps=%s", caps).contains("\"xcache\":[\"MISS\",\"HIT\"]");
        }
      }

      // A resource the server made for one session only: cached for that session, never served to another.
      String creator = ServerEverything.runNode("private-resource.mjs", url, "create", "secret.gz");
      assertThat(creator).contains("\"reads\":[{\"ok\":true", "},{\"ok\":true", "\"xcache\":[\"MISS\",\"HIT\"]");
      String other = ServerEverything.runNode("private-resource.mjs", url, "read", "secret.gz");
      assertThat(other).contains("\"ok\":false", "not found", "\"xcache\":[\"MISS\"]");

      // A made-up session id: the server's own answer (it does not know the session), never a cached 200.
      HttpResponse<String> directMadeUp = toolsList(direct, "made-up-session");
      HttpResponse<String> viaGateway = toolsList(url, "made-up-session");
      assertThat(directMadeUp.statusCode()).isNotEqualTo(200);
      assertThat(viaGateway.statusCode()).isEqualTo(directMadeUp.statusCode());
      assertThat(viaGateway.headers().firstValue("X-Cache")).hasValue("MISS");

      // A session's entries and the session itself outlive a configuration reload.
      String session = initialize(url);
      assertThat(toolsList(url, session).headers().firstValue("X-Cache")).hasValue("MISS");
      Files.writeString(configFile, config("reloaded"));
      awaitLogLine(gateway, "configuration reloaded");
      HttpResponse<String> again = toolsList(url, session);
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(again.headers().firstValue("X-Cache")).hasValue("HIT");

      // Ended with DELETE: from then on, the server answers, whatever the cache holds.
      http.send(HttpRequest.newBuilder(URI.create(url)).DELETE().header("Mcp-Session-Id", session)
          .header("Mcp-Protocol-Version", "2025-06-18").build(), HttpResponse.BodyHandlers.discarding());
      HttpResponse<String> afterDelete = toolsList(url, session);
      assertThat(afterDelete.headers().firstValue("X-Cache")).hasValue("MISS");
      assertThat(afterDelete.statusCode()).isNotEqualTo(200);
    }
  }

  @Test
  void anotherApiKeyNeverGetsAnEntryEvenInTheSameSession() throws Exception {
    Path configFile = dir.resolve("gateway.yaml");
    Files.writeString(configFile, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
        relay:
          enabled: false
        upstreams:
          everything: "http://127.0.0.1:%d"
        plugins:
          auth-apikey:
            keys_file: "keys.yaml"
          cache-mcp: {}
        """.formatted(everything.port));
    String keyA = addKey(configFile, "alice");
    String keyB = addKey(configFile, "bob");
    try (GatewayProcess gateway = GatewayProcess.serve(dir, configFile)) {
      String url = "http://127.0.0.1:" + gateway.port + "/peer/everything/mcp";
      String session = initialize(url, keyA);
      assertThat(toolsList(url, session, keyA).headers().firstValue("X-Cache")).hasValue("MISS");
      assertThat(toolsList(url, session, keyA).headers().firstValue("X-Cache")).hasValue("HIT");
      // Another key that presents the same session id (copied, or guessed) is another caller.
      HttpResponse<String> other = toolsList(url, session, keyB);
      assertThat(other.headers().firstValue("X-Cache")).hasValue("MISS");
    }
  }

  private String addKey(Path configFile, String name) throws Exception {
    GatewayProcess.Result made = GatewayProcess.run(dir, "add-key", "--name", name, "--generate", "--config",
        configFile.toString());
    assertThat(made.exitCode()).as(made.stderr()).isZero();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^export GATEWAY_KEY=(sk_live_\\S+)$")
        .matcher(made.stdout());
    assertThat(m.find()).as(made.stdout()).isTrue();
    return m.group(1);
  }

  private static String names(String clientOutput) {
    String line = clientOutput.lines().filter(l -> l.startsWith("{\"ok\":true")).findFirst()
        .orElseThrow(() -> new AssertionError("no result from the client:\n" + clientOutput));
    return line.substring(line.indexOf("\"names\""), line.indexOf("]", line.indexOf("\"names\"")) + 1);
  }

  /** Starts a session with raw JSON-RPC over HTTP, as any client does, and returns its id. */
  private String initialize(String url) throws Exception {
    return initialize(url, null);
  }

  private String initialize(String url, String key) throws Exception {
    HttpResponse<String> r = post(url, null, key, """
        {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",\
        "capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String session = r.headers().firstValue("Mcp-Session-Id").orElseThrow();
    post(url, session, key, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    return session;
  }

  private HttpResponse<String> toolsList(String url, String session) throws Exception {
    return toolsList(url, session, null);
  }

  private HttpResponse<String> toolsList(String url, String session, String key) throws Exception {
    return post(url, session, key, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{}}");
  }

  private HttpResponse<String> post(String url, String session, String key, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .header("Mcp-Protocol-Version", "2025-06-18").POST(HttpRequest.BodyPublishers.ofString(json));
    if (session != null) {
      b.header("Mcp-Session-Id", session);
    }
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void awaitLogLine(GatewayProcess gateway, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!gateway.stdout().contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no '" + text + "' in the log within 30 s");
      }
      Thread.sleep(50);
    }
  }
}
