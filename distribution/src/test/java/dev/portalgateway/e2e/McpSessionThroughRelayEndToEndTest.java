package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.plugins.cache.McpNode;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real MCP server ({@code @modelcontextprotocol/server-everything} in Streamable HTTP mode, an
 * Express app on Node's HTTP server at its defaults: idle keep-alive connections close after 5 s)
 * behind the development relay and tunnel, the built gateway with its default settings, and the
 * official TypeScript SDK client pausing 8 s between calls, as a person using an assistant does.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class McpSessionThroughRelayEndToEndTest {
  @TempDir
  Path dir;

  private Process everything;
  private DevRelay relay;
  private DevTunnel tunnel;

  @BeforeEach
  void start() throws Exception {
    Path node = McpNode.defaultDirectory();
    // Installs the pinned packages if .ci/run has not (the same check McpNode makes).
    McpNode.start(McpNode.Mode.JSON).close();
    ProcessBuilder pb = new ProcessBuilder("node", "--import", "./loopback.mjs",
        "node_modules/@modelcontextprotocol/server-everything/dist/index.js", "streamableHttp")
        .directory(node.toFile()).redirectError(dir.resolve("everything.stderr").toFile());
    pb.environment().put("PORT", "0");
    everything = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(everything.getInputStream(), StandardCharsets.UTF_8));
    int port = CompletableFuture.supplyAsync(() -> {
      try {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("LISTENING ")) {
            return Integer.parseInt(line.substring("LISTENING ".length()).trim());
          }
        }
      } catch (IOException ignored) {
        // Reported below.
      }
      return -1;
    }).get(30, TimeUnit.SECONDS);
    assertThat(port).as("server-everything started: %s", Files.readString(dir.resolve("everything.stderr"))).isPositive();
    relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
    tunnel = DevTunnel.start(relay.url(), PortalIdentity.generate(), "everything", new InetSocketAddress("127.0.0.1", port));
  }

  @AfterEach
  void stop() throws Exception {
    if (tunnel != null) {
      tunnel.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (everything != null) {
      everything.destroy();
      everything.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anSdkSessionWithPausesLongerThanTheServersKeepAliveSucceedsCallAfterCall() throws Exception {
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
        relay:
          url: "%s"
        """.formatted(relay.url()));
    try (GatewayProcess gateway = GatewayProcess.serve(dir, config)) {
      awaitReady(gateway);
      String url = "http://127.0.0.1:" + gateway.port + "/peer/everything/mcp";
      Process client = new ProcessBuilder("node", "pause-client.mjs", url, "5", "8000")
          .directory(McpNode.defaultDirectory().toFile()).redirectErrorStream(true).start();
      String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(client.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(client.exitValue()).as(output).isZero();
      List<String> calls = output.lines().filter(l -> l.startsWith("{\"cycle\"")).toList();
      assertThat(calls).as(output).hasSize(5);
      for (int cycle = 1; cycle <= 5; cycle++) {
        assertThat(calls.get(cycle - 1)).contains("\"cycle\":" + cycle, "\"ok\":true", "cycle " + cycle);
      }
      assertThat(gateway.terminate()).isZero();
      assertThat(gateway.stdout()).doesNotContain("\"status\":502", "\"status\":404");
    }
  }

  private static void awaitReady(GatewayProcess gateway) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + gateway.adminPort + "/readyz")).build(),
            java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // Starting.
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the gateway was not ready in 30 s");
  }
}
