package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command: {@code java -jar dist/portal-gateway.jar demo}. A relay, the tunnels,
 * a service and the gateway start; a request without the printed key is refused, and one with it
 * crosses the relay end-to-end encrypted, MCP streamed answers included. {@link DemoWalkthroughTest}
 * follows the quick start's demo section word for word.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoCommandTest {
  @TempDir
  Path dir;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void theDemoServesALeaseThroughTheRelayAndStopsCleanly() throws Exception {
    int port = freePort();
    int admin = freePort();
    int relay = freePort();
    List<String> command = new ArrayList<>(List.of(GatewayProcess.java(), "-jar",
        GatewayProcess.DIST.resolve("portal-gateway.jar").toString(), "demo",
        "--port", "" + port, "--admin-port", "" + admin, "--relay-port", "" + relay));
    Path out = dir.resolve("demo.out");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.readString(out).contains("Stop with Ctrl-C.")) {
        assertThat(p.isAlive()).as(Files.readString(out)).isTrue();
        assertThat(System.nanoTime()).as("demo did not start in 60 s").isLessThan(deadline);
        Thread.sleep(50);
      }
      String printed = Files.readString(out);
      assertThat(printed).contains("curl -i http://127.0.0.1:" + port + "/peer/demo/");
      java.util.regex.Matcher key = java.util.regex.Pattern.compile("export GATEWAY_KEY=(sk_live_\\S+)").matcher(printed);
      assertThat(key.find()).as(printed).isTrue();
      String bearer = "Bearer " + key.group(1);
      HttpResponse<String> refused = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/peer/demo/hello")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(401);
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/peer/demo/hello")).header("Authorization", bearer).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("Hello from a service behind a Portal relay", "You asked for /hello");
      assertThat(r.headers().firstValue("X-Example")).isPresent();
      URI mcp = URI.create("http://127.0.0.1:" + port + "/peer/demo/mcp");
      HttpResponse<String> tools = client.send(HttpRequest.newBuilder(mcp).header("Authorization", bearer)
          .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
          .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(tools.body()).contains("\"id\":7", "\"echo\"", "\"time\"");
      HttpResponse<String> time = client.send(HttpRequest.newBuilder(mcp).header("Authorization", bearer)
          .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"time\"}}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(time.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
      assertThat(time.body()).startsWith("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":8");
      HttpResponse<String> ready = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + admin + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(200);
    } finally {
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).isZero();
  }
}
