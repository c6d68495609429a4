package dev.portalgateway.plugins.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real MCP server and client for tests: the official TypeScript SDK ({@code @modelcontextprotocol/sdk}),
 * run by Node.js from {@code plugins/cache-mcp/src/test/node} ({@code server.mjs}, {@code client.mjs}).
 *
 * <p>An instance is a running {@code server.mjs} on 127.0.0.1 and a free port, with the JSON-RPC
 * requests it has received; {@link #runClient} runs {@code client.mjs}'s fixed script against any
 * URL (the server itself, or the gateway in front of it) and returns what every step got. The SDK
 * checks every answer (ids, schemas), so an all-ok run means the client library accepted them all.
 *
 * <p>Node.js and npm are required, not optional: a missing {@code node} fails with {@link #NOT_INSTALLED}.
 * The node folder's {@code node_modules} is installed with {@code npm ci} when missing or older than
 * {@code package-lock.json} ({@code .ci/run} does it ahead of time).
 */
public final class McpNode implements AutoCloseable {
  public static final String NOT_INSTALLED = "node/npm not found: run .ci/run, or install Node.js 20";
  /** System property naming the node folder, for tests that run outside the cache-mcp module. */
  public static final String DIRECTORY_PROPERTY = "mcp.node.dir";

  /** How the server answers a POST: with an SSE stream (the SDK's default) or with one JSON body. */
  public enum Mode { SSE, JSON }

  /**
   * What one run of {@code client.mjs} printed.
   *
   * @param exitCode 0 when every step succeeded
   * @param steps one object per step, in order: {@code step}, {@code ok}, then {@code result} or
   *     {@code error} (and {@code errors}), {@code http} (the exchanges: {@code method}, {@code rpc},
   *     {@code ids}, {@code status}, {@code contentType}, {@code headers}) and {@code ms}
   * @param stdout everything the client printed on stdout
   * @param stderr everything it printed on stderr
   */
  public record ClientRun(int exitCode, List<JsonNode> steps, String stdout, String stderr) {
    /** The script's steps, in the order the client runs them. */
    public static final List<String> STEPS = List.of("initialize", "tools/list#1", "tools/list#2",
        "tools/call:counter#1", "tools/call:counter#2", "tools/call:static-info#1", "tools/call:static-info#2",
        "prompts/list", "resources/list", "resources/read");

    public ClientRun {
      steps = List.copyOf(steps);
    }

    /** @return whether the client exited with 0 and printed every step of the script, all ok */
    public boolean ok() {
      return exitCode == 0 && failures().isEmpty() && stepNames().equals(STEPS);
    }

    /** @return the names of the steps printed */
    public List<String> stepNames() {
      return steps.stream().map(s -> s.path("step").asText()).toList();
    }

    /** @return the steps that failed, as {@code "name: error"} */
    public List<String> failures() {
      return steps.stream().filter(s -> !s.path("ok").asBoolean(false))
          .map(s -> s.path("step").asText() + ": " + s.path("error").asText()).toList();
    }

    /**
     * @param name a step's name, such as {@code "tools/list#2"}
     * @return its line
     * @throws IllegalArgumentException when the client printed no such step
     */
    public JsonNode step(String name) {
      return steps.stream().filter(s -> name.equals(s.path("step").asText())).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no step '" + name + "' in the client's output:\n" + describe()));
    }

    /** @return the step's result, as the SDK parsed it (a missing node when the step failed) */
    public JsonNode result(String name) {
      return step(name).path("result");
    }

    /** @return the first text content of a {@code tools/call} step's result, such as the counter's value */
    public String text(String name) {
      return result(name).path("content").path(0).path("text").asText(null);
    }

    /** @return the exit code, the failures and all the output, for assertion messages */
    public String describe() {
      return "client exit code " + exitCode + ", failures " + failures() + "\n--- stdout:\n" + stdout
          + "--- stderr:\n" + stderr;
    }

    @Override
    public String toString() {
      return describe();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration NPM_CI_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(5);
  private static final Set<Path> INSTALLED = ConcurrentHashMap.newKeySet();
  private static volatile String node;

  private final Path directory;
  private final Mode mode;
  private final boolean stateful;
  private final Process process;
  private final Thread reader;
  private final CompletableFuture<Integer> listening = new CompletableFuture<>();
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final List<String> notifications = new CopyOnWriteArrayList<>();
  private final StringBuffer output = new StringBuffer();
  private final AtomicLong syncsSent = new AtomicLong();
  private final Object syncLock = new Object();
  private long syncsSeen; // guarded by syncLock
  private final int port;

  private McpNode(Path directory, Mode mode, boolean stateful) throws IOException {
    this.directory = directory;
    this.mode = mode;
    this.stateful = stateful;
    List<String> command = new ArrayList<>(List.of(node(), "server.mjs", "0", "--control-stdin"));
    if (mode == Mode.JSON) {
      command.add("--json");
    }
    if (stateful) {
      command.add("--stateful");
    }
    process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
    reader = Thread.ofPlatform().daemon().name("mcp-node-server").start(this::readOutput);
    try {
      port = listening.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      close();
      throw new IllegalStateException("server.mjs (" + mode + (stateful ? ", stateful" : "") + ") did not print"
          + " LISTENING within " + START_TIMEOUT.toSeconds() + "s" + exitNote() + ":\n" + output(), e);
    } catch (InterruptedException e) {
      close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting server.mjs", e);
    }
  }

  /** Starts a stateless server in the default node folder ({@link #defaultDirectory}). */
  public static McpNode start(Mode mode) throws IOException {
    return start(defaultDirectory(), mode, false);
  }

  /** Starts a server in the default node folder ({@link #defaultDirectory}). */
  public static McpNode start(Mode mode, boolean stateful) throws IOException {
    return start(defaultDirectory(), mode, stateful);
  }

  /**
   * Starts {@code server.mjs} on 127.0.0.1 and a free port, installing {@code node_modules} first if needed.
   *
   * @param directory the node folder (holding {@code server.mjs})
   * @param mode JSON or SSE answers to POSTs
   * @param stateful whether the server hands out {@code Mcp-Session-Id} and keeps sessions; a
   *     stateless server makes a new MCP server for every request and refuses GET with 405
   */
  public static McpNode start(Path directory, Mode mode, boolean stateful) throws IOException {
    Path dir = checkDirectory(directory);
    ensureInstalled(dir);
    return new McpNode(dir, mode, stateful);
  }

  /**
   * The node folder: the {@value #DIRECTORY_PROPERTY} system property if set, else {@code src/test/node}
   * (the working directory of surefire and failsafe in the cache-mcp module), else
   * {@code ../plugins/cache-mcp/src/test/node} (from another module, such as the distribution).
   */
  public static Path defaultDirectory() {
    String property = System.getProperty(DIRECTORY_PROPERTY);
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    List<Path> candidates = List.of(Path.of("src/test/node"), Path.of("../plugins/cache-mcp/src/test/node"));
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate.resolve("server.mjs"))) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("no MCP node folder (with server.mjs) at " + candidates.stream()
        .map(p -> p.toAbsolutePath().normalize().toString()).toList() + "; set -D" + DIRECTORY_PROPERTY
        + "=.../plugins/cache-mcp/src/test/node");
  }

  /** @return http://127.0.0.1:PORT, the base URL to give the gateway as the upstream */
  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** @return http://127.0.0.1:PORT/mcp, the MCP endpoint (the server answers MCP on every path) */
  public String url() {
    return baseUrl() + "/mcp";
  }

  public int port() {
    return port;
  }

  public Mode mode() {
    return mode;
  }

  public boolean stateful() {
    return stateful;
  }

  public Path directory() {
    return directory;
  }

  /**
   * @return every JSON-RPC request the server has received so far, in order, as {@code "METHOD ID"}
   *     or, with a tool or prompt name or a resource URI, {@code "METHOD ID NAME"} (such as
   *     {@code "tools/list 2"}, {@code "tools/call 3 counter"}); includes all requests whose
   *     answers a client has had
   */
  public List<String> requests() {
    sync();
    return List.copyOf(requests);
  }

  /** @return how many JSON-RPC requests with this method the server has received */
  public long count(String method) {
    return requests().stream().filter(r -> r.split(" ", 3)[0].equals(method)).count();
  }

  /**
   * @param method such as {@code "tools/call"}
   * @param name the tool or prompt name, or the resource URI, such as {@code "counter"}
   * @return how many JSON-RPC requests with this method and name the server has received
   */
  public long count(String method, String name) {
    return requests().stream().map(r -> r.split(" ", 3))
        .filter(parts -> parts.length == 3 && parts[0].equals(method) && parts[2].equals(name)).count();
  }

  /** @return every JSON-RPC notification the server has received, as its method */
  public List<String> notifications() {
    sync();
    return List.copyOf(notifications);
  }

  /** Forgets the requests and notifications received so far. */
  public void clearRequests() {
    sync();
    requests.clear();
    notifications.clear();
  }

  /** @return everything the server printed (stdout and stderr) */
  public String output() {
    return output.toString();
  }

  /** Runs {@code client.mjs} against a URL, from this server's node folder. */
  public ClientRun runClient(String url) throws IOException {
    return runClient(directory, url, Map.of());
  }

  /** Runs {@code client.mjs} against a URL with more request headers, from this server's node folder. */
  public ClientRun runClient(String url, Map<String, String> headers) throws IOException {
    return runClient(directory, url, headers);
  }

  /**
   * Runs {@code client.mjs} to completion (at most 60 seconds): connect, then the script of
   * {@link ClientRun#STEPS}.
   *
   * @param directory the node folder (holding {@code client.mjs})
   * @param url the MCP endpoint, such as {@code http://127.0.0.1:8080/peer/mcp/mcp}
   * @param headers sent with every request, such as {@code Authorization}
   * @throws IllegalStateException when the client does not finish in time (with its output so far)
   */
  public static ClientRun runClient(Path directory, String url, Map<String, String> headers) throws IOException {
    Path dir = checkDirectory(directory);
    ensureInstalled(dir);
    List<String> command = new ArrayList<>(List.of(node(), "client.mjs", url));
    headers.forEach((name, value) -> {
      command.add("--header");
      command.add(name + ": " + value);
    });
    Path stdout = Files.createTempFile("mcp-client-", ".out");
    Path stderr = Files.createTempFile("mcp-client-", ".err");
    try {
      Process client = new ProcessBuilder(command).directory(dir.toFile())
          .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      client.getOutputStream().close();
      if (!waitFor(client, CLIENT_TIMEOUT)) {
        client.destroyForcibly();
        waitFor(client, Duration.ofSeconds(5));
        throw new IllegalStateException("client.mjs against " + url + " did not finish within "
            + CLIENT_TIMEOUT.toSeconds() + "s\n--- stdout:\n" + Files.readString(stdout) + "--- stderr:\n"
            + Files.readString(stderr));
      }
      String out = Files.readString(stdout);
      List<JsonNode> steps = new ArrayList<>();
      for (String line : out.split("\n")) {
        if (line.startsWith("{")) {
          steps.add(JSON.readTree(line));
        }
      }
      return new ClientRun(client.exitValue(), steps, out, Files.readString(stderr));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  /**
   * Runs {@code npm ci --no-audit --no-fund} in the node folder unless its {@code node_modules} is
   * there and at least as new as {@code package-lock.json}. Safe to call from several threads and JVMs.
   *
   * @throws IllegalStateException when node or npm is missing, or npm fails (with npm's output)
   */
  public static void ensureInstalled(Path directory) throws IOException {
    Path dir = checkDirectory(directory);
    if (INSTALLED.contains(dir)) {
      return;
    }
    node();
    synchronized (McpNode.class) {
      if (INSTALLED.contains(dir)) {
        return;
      }
      // Another JVM (a parallel build's distribution tests) may install into the same folder.
      Path lockFile = Path.of(System.getProperty("java.io.tmpdir"),
          "mcp-node-npm-ci-" + Integer.toHexString(dir.toString().hashCode()) + ".lock");
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
           FileLock ignored = channel.lock()) {
        if (!installed(dir)) {
          npmCi(dir);
        }
      }
      INSTALLED.add(dir);
    }
  }

  private static boolean installed(Path dir) throws IOException {
    Path sdk = dir.resolve("node_modules/@modelcontextprotocol/sdk/package.json");
    Path hiddenLock = dir.resolve("node_modules/.package-lock.json");
    return Files.isRegularFile(sdk) && Files.isRegularFile(hiddenLock)
        && Files.getLastModifiedTime(hiddenLock).compareTo(Files.getLastModifiedTime(dir.resolve("package-lock.json"))) >= 0;
  }

  private static void npmCi(Path dir) throws IOException {
    String npm = onPath("npm");
    Path log = Files.createTempFile("mcp-node-npm-ci-", ".log");
    try {
      ProcessBuilder builder = new ProcessBuilder(npm, "ci", "--no-audit", "--no-fund")
          .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().put("npm_config_update_notifier", "false");
      Process process = builder.start();
      process.getOutputStream().close();
      if (!waitFor(process, NPM_CI_TIMEOUT)) {
        process.destroyForcibly();
        waitFor(process, Duration.ofSeconds(5));
        throw new IllegalStateException("npm ci in " + dir + " did not finish within " + NPM_CI_TIMEOUT.toMinutes()
            + " minutes:\n" + Files.readString(log));
      }
      if (process.exitValue() != 0 || !installed(dir)) {
        throw new IllegalStateException("npm ci in " + dir + " failed (exit code " + process.exitValue() + "):\n"
            + Files.readString(log));
      }
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** @return the node executable, checked once to be Node.js 18 or newer */
  private static String node() throws IOException {
    String found = node;
    if (found != null) {
      return found;
    }
    found = onPath("node");
    onPath("npm");
    Process version = new ProcessBuilder(found, "--version").redirectErrorStream(true).start();
    version.getOutputStream().close();
    String text = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    waitFor(version, Duration.ofSeconds(10));
    int major;
    try {
      major = Integer.parseInt(text.replaceFirst("^v", "").replaceFirst("\\..*", ""));
    } catch (NumberFormatException e) {
      throw new IllegalStateException(found + " --version printed '" + text + "'; " + NOT_INSTALLED, e);
    }
    if (major < 18) {
      throw new IllegalStateException(found + " is Node.js " + text + ", older than 18 (the MCP SDK's minimum): "
          + "install Node.js 20");
    }
    node = found;
    return found;
  }

  private static String onPath(String name) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate.toString();
        }
      }
    }
    throw new IllegalStateException(NOT_INSTALLED);
  }

  private static Path checkDirectory(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    if (!Files.isRegularFile(dir.resolve("server.mjs")) || !Files.isRegularFile(dir.resolve("package-lock.json"))) {
      throw new IllegalStateException(dir + " is not the MCP node folder (server.mjs, client.mjs, package-lock.json)");
    }
    return dir;
  }

  private void readOutput() {
    try (BufferedReader lines = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        output.append(line).append('\n');
        if (line.startsWith("REQUEST ")) {
          requests.add(line.substring("REQUEST ".length()));
        } else if (line.startsWith("NOTIFICATION ")) {
          notifications.add(line.substring("NOTIFICATION ".length()));
        } else if (line.startsWith("SYNC ")) {
          long n = number(line, "SYNC ");
          synchronized (syncLock) {
            syncsSeen = Math.max(syncsSeen, n);
            syncLock.notifyAll();
          }
        } else if (line.startsWith("LISTENING ") && !listening.isDone() && number(line, "LISTENING ") > 0) {
          listening.complete((int) number(line, "LISTENING "));
        }
      }
    } catch (IOException | RuntimeException e) {
      output.append("(reading the server's output failed: ").append(e).append(")\n");
    } finally {
      listening.completeExceptionally(new IOException("server.mjs closed its output"));
      synchronized (syncLock) {
        syncLock.notifyAll();
      }
    }
  }

  private static long number(String line, String prefix) {
    try {
      return Long.parseLong(line.substring(prefix.length()).trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Makes sure every line the server printed before now has been read: asks it to print
   * {@code SYNC n} and waits for that line. Requests whose answers a client has had were printed
   * before their answers were sent, so they are all in {@link #requests} afterwards.
   */
  private void sync() {
    if (!process.isAlive()) {
      joinReader();
      return;
    }
    long n = syncsSent.incrementAndGet();
    try {
      OutputStream stdin = process.getOutputStream();
      synchronized (stdin) {
        stdin.write(("SYNC " + n + "\n").getBytes(StandardCharsets.US_ASCII));
        stdin.flush();
      }
    } catch (IOException e) {
      joinReader(); // it has exited: its output ends soon
      return;
    }
    long deadline = System.nanoTime() + SYNC_TIMEOUT.toNanos();
    synchronized (syncLock) {
      while (syncsSeen < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("server.mjs did not answer SYNC within " + SYNC_TIMEOUT.toSeconds() + "s"
              + exitNote() + ":\n" + output());
        }
        if (!reader.isAlive()) {
          return;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(syncLock, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for server.mjs", e);
        }
      }
    }
  }

  private void joinReader() {
    try {
      reader.join(SYNC_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String exitNote() {
    return process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")";
  }

  /** Stops the server: closes its stdin (it exits), then SIGTERM, then SIGKILL. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // it has exited already
    }
    if (!waitFor(process, Duration.ofSeconds(2))) {
      process.destroy();
      if (!waitFor(process, Duration.ofSeconds(5))) {
        process.destroyForcibly();
        waitFor(process, Duration.ofSeconds(5));
      }
    }
    joinReader();
  }

  private static boolean waitFor(Process process, Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while waiting for " + process.info().command().orElse("a process"), e);
    }
  }

  @Override
  public String toString() {
    return "McpNode[" + mode + (stateful ? ", stateful" : "") + ", " + url() + "]";
  }
}
