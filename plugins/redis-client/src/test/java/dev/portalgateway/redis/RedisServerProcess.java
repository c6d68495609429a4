package dev.portalgateway.redis;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for tests, on 127.0.0.1 and a free port, without persistence. It is
 * required, not optional: without it the Redis store would go untested, so a missing binary fails
 * the tests with instructions instead of skipping them.
 */
public final class RedisServerProcess implements AutoCloseable {
  static final String NOT_INSTALLED = "redis-server is not installed: run .ci/run, or apt-get install redis-server";

  private final int port;
  private final List<String> extraArguments;
  private final Path log;
  private Process process;

  private RedisServerProcess(int port, List<String> extraArguments) throws IOException {
    this.port = port;
    this.extraArguments = List.copyOf(extraArguments);
    this.log = Files.createTempFile("redis-server-" + port + "-", ".log");
    log.toFile().deleteOnExit();
  }

  /**
   * Starts a server on a free port.
   *
   * @param extraArguments more configuration, such as {@code "--requirepass", "secret"}
   */
  public static RedisServerProcess startOnFreePort(String... extraArguments) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      // The port is free now; another process could still take it before redis-server binds it.
      RedisServerProcess server = new RedisServerProcess(freePort(), List.of(extraArguments));
      try {
        server.start();
        return server;
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  /** @return a port on 127.0.0.1 that nothing listened on a moment ago */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  public int port() {
    return port;
  }

  /** @return {@code redis://127.0.0.1:<port>} */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Starts the server again on the same port, after {@link #kill} or {@link #close}. */
  public void start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("redis-server on port " + port + " is already running");
    }
    List<String> command = new ArrayList<>(List.of(binary(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no"));
    command.addAll(extraArguments);
    process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!answersPing()) {
      if (!process.isAlive()) {
        throw new IOException("redis-server on port " + port + " exited with " + process.exitValue() + ":\n" + output());
      }
      if (System.nanoTime() - deadline > 0) {
        kill();
        throw new IOException("redis-server on port " + port + " did not answer PING within 10s:\n" + output());
      }
      sleep(10);
    }
  }

  /** Stops the server at once (SIGKILL), as a crash would. */
  public void kill() {
    if (process != null) {
      process.destroyForcibly();
      waitFor();
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 seconds). */
  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }
  }

  private void waitFor() {
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean answersPing() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] reply = in.readNBytes(1);
      // "+PONG", or "-NOAUTH ..." from a server that wants a password: either way it is up.
      return reply.length == 1 && (reply[0] == '+' || reply[0] == '-');
    } catch (IOException e) {
      return false;
    }
  }

  private String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e + ")";
    }
  }

  private static String binary() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        Path candidate = Path.of(dir.isEmpty() ? "." : dir, "redis-server");
        if (Files.isExecutable(candidate)) {
          return candidate.toString();
        }
      }
    }
    throw new IllegalStateException(NOT_INSTALLED);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for redis-server", e);
    }
  }
}
