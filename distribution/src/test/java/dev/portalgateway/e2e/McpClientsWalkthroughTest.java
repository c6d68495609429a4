package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.plugins.cache.McpNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/walkthroughs/mcp-clients.md: its set-up section followed word for word ({@link Walkthrough}):
 * a relay, the reference MCP server (server-everything) behind a tunnel, the gateway with API keys
 * and the MCP cache, and curl's initialize refused without the key and answered with it. Then the
 * page's Claude Desktop entry is started as Claude Desktop starts it (its command, arguments and
 * environment: npx mcp-remote with the key header), and the test is the MCP client on its stdio.
 */
@Timeout(value = 400, unit = TimeUnit.SECONDS)
class McpClientsWalkthroughTest {
  static final Path PAGE = GatewayProcess.DIST.getParent().resolve("docs/walkthroughs/mcp-clients.md");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void theMcpWalkthroughWorksAsWrittenAndClaudeDesktopsEntryTalksMcpThroughTheGateway() throws Exception {
    Path node = McpNode.defaultDirectory();
    McpNode.ensureInstalled(node); // server-everything and mcp-remote, from the lock file
    try (Walkthrough w = new Walkthrough(dir, 8080, 9090, 4017, 3001)) {
      // npx finds the packages here, as in a project that installed them, instead of downloading them.
      Files.createSymbolicLink(dir.resolve("node_modules"), node.resolve("node_modules"));
      w.follow(PAGE, "## Set it up");
      assertThat(w.ran()).hasSize(8);

      JsonNode entry = JSON.readTree(dir.resolve("claude_desktop_config.json").toFile()).path("mcpServers").path("everything");
      List<String> command = new ArrayList<>();
      command.add(entry.path("command").asText());
      entry.path("args").forEach(a -> command.add(a.asText()));
      assertThat(command).contains("http://127.0.0.1:" + w.port(8080) + "/peer/everything/mcp");
      ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
          .redirectError(dir.resolve("mcp-remote.stderr").toFile());
      entry.path("env").properties().forEach(e -> pb.environment().put(e.getKey(), e.getValue().asText()));
      pb.environment().put("MCP_REMOTE_CONFIG_DIR", dir.resolve("mcp-auth").toString()); // not the real ~/.mcp-auth
      Process remote = pb.start();
      try (StdioClient client = new StdioClient(remote)) {
        JsonNode init = client.call(1, "initialize", "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
            + "\"clientInfo\":{\"name\":\"claude-desktop-stand-in\",\"version\":\"1\"}}");
        assertThat(init.path("result").path("serverInfo").path("name").asText()).as(init.toString())
            .isEqualTo("mcp-servers/everything");
        client.notify("notifications/initialized");
        JsonNode tools = client.call(2, "tools/list", "{}");
        List<String> names = new ArrayList<>();
        tools.path("result").path("tools").forEach(t -> names.add(t.path("name").asText()));
        assertThat(names).as(tools.toString()).contains("echo", "get-sum");
        JsonNode echo = client.call(3, "tools/call", "{\"name\":\"echo\",\"arguments\":{\"message\":\"hello through the gateway\"}}");
        assertThat(echo.path("result").path("content").path(0).path("text").asText()).as(echo.toString())
            .isEqualTo("Echo: hello through the gateway");
        JsonNode again = client.call(4, "tools/list", "{}");
        assertThat(again.path("result").path("tools")).isEqualTo(tools.path("result").path("tools"));
      } catch (AssertionError | IOException e) {
        throw new AssertionError(e.getMessage() + "\n--- mcp-remote's stderr ---\n"
            + Files.readString(dir.resolve("mcp-remote.stderr")), e);
      }

      try (HttpClient http = HttpClient.newHttpClient()) {
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.port(9090) + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        Matcher hits = Pattern.compile("(?m)^portal_gateway_cache_mcp_requests_total\\{kind=\"mcp\",result=\"hit\",\\} (\\S+)$")
            .matcher(metrics);
        assertThat(hits.find()).as("the session's second tools/list is a hit:\n" + metrics).isTrue();
        assertThat(Double.parseDouble(hits.group(1))).isGreaterThanOrEqualTo(1.0);
      }
      assertThat(w.stop(3)).as("the gateway's exit status after Ctrl-C (SIGTERM)").isZero();
    }
  }

  /** The client side of MCP's stdio transport: one JSON-RPC message per line. */
  private static final class StdioClient implements AutoCloseable {
    private final Process process;
    private final OutputStream in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    StdioClient(Process process) {
      this.process = process;
      this.in = process.getOutputStream();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            lines.add(line);
          }
        } catch (IOException e) {
          // The process ended; a call waiting for an answer times out with what it saw.
        }
      }, "mcp-remote-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    void notify(String method) throws IOException {
      send("{\"jsonrpc\":\"2.0\",\"method\":\"" + method + "\"}");
    }

    JsonNode call(int id, String method, String params) throws IOException, InterruptedException {
      send("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<String> seen = new ArrayList<>();
      while (true) {
        String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null) {
          throw new AssertionError("no answer to " + method + " (id " + id + ") within 60 s; mcp-remote "
              + (process.isAlive() ? "is running" : "exited with " + process.exitValue()) + "; it printed: " + seen);
        }
        seen.add(line);
        JsonNode message;
        try {
          message = JSON.readTree(line);
        } catch (IOException e) {
          continue; // not a JSON-RPC line
        }
        if (message.path("id").asInt(-1) == id && !message.has("method")) {
          return message;
        }
      }
    }

    private void send(String message) throws IOException {
      in.write((message + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    @Override
    public void close() throws InterruptedException {
      try {
        in.close(); // the end of stdin: mcp-remote shuts down
      } catch (IOException ignored) {
        // already gone
      }
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
