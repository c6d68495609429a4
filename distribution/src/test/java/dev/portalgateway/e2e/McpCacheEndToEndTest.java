package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portalgateway.plugins.cache.McpNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The "done when" for cache-mcp: the official MCP TypeScript SDK's server and client talk
 * through the built gateway with the cache on. The client library checks every answer (ids,
 * schemas); the server counts what reached it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class McpCacheEndToEndTest {
  @TempDir
  Path dir;

  /** @return the X-Cache header of the HTTP exchange that carried one of the client's steps */
  private static String xCache(McpNode.ClientRun run, String step) {
    JsonNode http = run.step(step).path("http");
    for (JsonNode exchange : http) {
      if (exchange.path("method").asText().equals("POST")) {
        return exchange.path("headers").path("x-cache").asText(null);
      }
    }
    return null;
  }

  @ParameterizedTest(name = "server answers in {0}, stateful={1}")
  @CsvSource({"SSE,false", "JSON,false", "SSE,true"})
  void theSdkClientAcceptsEveryAnswerAndTheSecondToolsListIsAHit(McpNode.Mode mode, boolean stateful) throws Exception {
    Path node = McpNode.defaultDirectory();
    try (McpNode server = McpNode.start(node, mode, stateful)) {
      Path config = dir.resolve("gateway.yaml");
      Files.writeString(config, """
          server:
            listen: "127.0.0.1:0"
            admin_listen: "127.0.0.1:0"
          relay:
            enabled: false
          upstreams:
            mcp: "%s"
          plugins:
            cache-mcp:
              mcp:
                tools: { static-info: 1m }
          """.formatted(server.baseUrl()));
      try (GatewayProcess g = GatewayProcess.serve(dir, config)) {
        McpNode.ClientRun run = McpNode.runClient(node, "http://127.0.0.1:" + g.port + "/peer/mcp/mcp",
            java.util.Map.of());
        assertThat(run.ok()).as(run.describe()).isTrue();

        assertThat(xCache(run, "tools/list#1")).isEqualTo("MISS");
        assertThat(xCache(run, "tools/list#2")).isEqualTo("HIT");
        assertThat(server.count("tools/list")).as("the second tools/list never reached the server").isEqualTo(1);

        // counter is not listed as cacheable: both calls reach the server and count on.
        assertThat(xCache(run, "tools/call:counter#1")).isEqualTo("MISS");
        assertThat(xCache(run, "tools/call:counter#2")).isEqualTo("MISS");
        assertThat(server.count("tools/call", "counter")).isEqualTo(2);
        assertThat(Integer.parseInt(run.text("tools/call:counter#2")))
            .isEqualTo(Integer.parseInt(run.text("tools/call:counter#1")) + 1);

        // static-info is listed: the second call is answered by the gateway.
        assertThat(xCache(run, "tools/call:static-info#2")).isEqualTo("HIT");
        assertThat(server.count("tools/call", "static-info")).isEqualTo(1);
        assertThat(run.text("tools/call:static-info#2")).isEqualTo(run.text("tools/call:static-info#1"));

        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + g.adminPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("portal_gateway_cache_mcp_requests_total{kind=\"mcp\",result=\"hit\",} 2.0");
      }
    }
  }
}
