package dev.portalgateway.e2e;

import dev.portalgateway.plugins.cache.McpNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code @modelcontextprotocol/server-everything} in Streamable HTTP mode (an Express app on Node's
 * HTTP server at its defaults, with sessions), kept to 127.0.0.1 by the {@code loopback.mjs} shim,
 * from the cache-mcp test folder whose pinned packages {@code .ci/run} installs.
 */
final class ServerEverything implements AutoCloseable {
  private final Process process;
  final int port;

  private ServerEverything(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static ServerEverything start(Path logDir) throws Exception {
    Path node = McpNode.defaultDirectory();
    McpNode.start(McpNode.Mode.JSON).close(); // installs the pinned packages if .ci/run has not
    Path stderr = logDir.resolve("everything.stderr");
    ProcessBuilder pb = new ProcessBuilder("node", "--import", "./loopback.mjs",
        "node_modules/@modelcontextprotocol/server-everything/dist/index.js", "streamableHttp")
        .directory(node.toFile()).redirectError(stderr.toFile());
    pb.environment().put("PORT", "0");
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
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
    if (port <= 0) {
      p.destroyForcibly();
      throw new IllegalStateException("server-everything did not start: " + Files.readString(stderr));
    }
    return new ServerEverything(p, port);
  }

  /** Runs a script of the cache-mcp node folder and returns its output, after it exited 0. */
  static String runNode(String... args) throws Exception {
    Process client = new ProcessBuilder(java.util.stream.Stream.concat(java.util.stream.Stream.of("node"),
        List.of(args).stream()).toList()).directory(McpNode.defaultDirectory().toFile()).redirectErrorStream(true).start();
    String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!client.waitFor(120, TimeUnit.SECONDS) || client.exitValue() != 0) {
      throw new AssertionError("node " + String.join(" ", args) + " failed:\n" + output);
    }
    return output;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
