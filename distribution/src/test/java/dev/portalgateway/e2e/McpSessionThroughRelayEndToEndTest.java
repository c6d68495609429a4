package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  private ServerEverything everything;
  private DevRelay relay;
  private DevTunnel tunnel;

  @BeforeEach
  void start() throws Exception {
    everything = ServerEverything.start(dir);
    relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
    tunnel = DevTunnel.start(relay.url(), PortalIdentity.generate(), "everything",
        new InetSocketAddress("127.0.0.1", everything.port));
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
      everything.close();
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
      String output = ServerEverything.runNode("pause-client.mjs", url, "5", "8000");
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
