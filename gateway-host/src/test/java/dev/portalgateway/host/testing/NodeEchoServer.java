package dev.portalgateway.host.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real backend: Node.js's HTTP server at its defaults ({@code src/test/node/echo-server.mjs}),
 * which, like most Node services, closes idle keep-alive connections after 5 s. Needs {@code node}
 * on the PATH ({@code .ci/run} installs it).
 */
public final class NodeEchoServer implements AutoCloseable {
  /** Where the script is, from the gateway-host module or from a module beside it. */
  private static final Path SCRIPT = locate();

  private final Process process;
  private final OutputStream commands;
  private final int port;

  private NodeEchoServer(Process process, int port) {
    this.process = process;
    this.commands = process.getOutputStream();
    this.port = port;
  }

  private static Path locate() {
    for (Path p : new Path[] {Path.of("src/test/node/echo-server.mjs"), Path.of("../gateway-host/src/test/node/echo-server.mjs")}) {
      if (Files.isRegularFile(p)) {
        return p.toAbsolutePath();
      }
    }
    return Path.of("src/test/node/echo-server.mjs").toAbsolutePath();
  }

  /** Starts the server and waits until it listens. */
  public static NodeEchoServer start() throws IOException {
    Process p;
    try {
      p = new ProcessBuilder("node", SCRIPT.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new IOException("node not found: run .ci/run, or install Node.js 18 or newer", e);
    }
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        return null;
      }
    });
    String line;
    try {
      line = first.get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IOException("the Node.js echo server did not start in 20 s", e);
    }
    if (line == null || !line.startsWith("LISTENING ")) {
      p.destroyForcibly();
      throw new IOException("the Node.js echo server did not start: " + line);
    }
    return new NodeEchoServer(p, Integer.parseInt(line.substring("LISTENING ".length()).trim()));
  }

  /** @return the port it listens on, on 127.0.0.1 */
  public int port() {
    return port;
  }

  /** @return {@code http://127.0.0.1:PORT} */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** Lets every waiting {@code /events} stream send its first event. */
  public void go() throws IOException {
    commands.write("GO\n".getBytes(StandardCharsets.US_ASCII));
    commands.flush();
  }

  @Override
  public void close() {
    try {
      commands.close(); // the server exits when its stdin closes
    } catch (IOException ignored) {
      // Gone already.
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
