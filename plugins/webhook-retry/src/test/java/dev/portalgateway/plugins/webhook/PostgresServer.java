package dev.portalgateway.plugins.webhook;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server for tests: Debian's (or any) {@code initdb} and {@code postgres} run on
 * a free loopback port, with a data directory of its own, TCP only, trust authentication for user
 * {@code gateway}. PostgreSQL refuses to run as root, so under root it runs as {@code nobody}
 * (through {@code setpriv}). It can be stopped, crashed (immediate shutdown, as after a power cut
 * of the database) and started again on the same data.
 */
public final class PostgresServer implements AutoCloseable {
  public static final String USER = "gateway";
  static final String NOT_INSTALLED = "PostgreSQL is not installed: run .ci/run, or apt-get install postgresql";

  private final Path root;
  private final Path data;
  private final int port;
  private Process process;

  private PostgresServer(Path root, int port) {
    this.root = root;
    this.data = root.resolve("data");
    this.port = port;
  }

  /** Creates a cluster in a new directory and starts it. */
  public static PostgresServer start() throws IOException, InterruptedException {
    Path root = Files.createTempDirectory("portal-gateway-pg", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwxr-xr-x")));
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    PostgresServer server = new PostgresServer(root, port);
    Files.createDirectories(server.data);
    if (isRoot()) {
      UserPrincipal nobody = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
      Files.setOwner(server.data, nobody);
    }
    server.run(List.of(binary("initdb"), "-D", server.data.toString(), "-U", USER, "-A", "trust", "-E", "UTF8",
        "--no-sync"), root.resolve("initdb.log"));
    server.startAgain();
    return server;
  }

  public int port() {
    return port;
  }

  /** @return the JDBC URL of database {@code name} */
  public String url(String name) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
  }

  /** Makes a new, empty database. @return its JDBC URL */
  public String createDatabase(String name) throws SQLException {
    try (Connection c = DriverManager.getConnection(url("postgres"), USER, "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return url(name);
  }

  /** Starts the server (again), on the same data, and waits until it takes connections. */
  public synchronized void startAgain() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(asUser(List.of(binary("postgres"), "-D", data.toString(), "-p",
        Integer.toString(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c",
        "max_connections=200", "-c", "fsync=on")));
    process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("postgres.log").toFile())).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection c = DriverManager.getConnection(url("postgres"), USER, "")) {
        return;
      } catch (SQLException notYet) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IOException("PostgreSQL did not start: " + log());
        }
        Thread.sleep(50);
      }
    }
  }

  /** Stops the server as a crash would: immediate shutdown, no checkpoint, recovery at the next start. */
  public synchronized void crash() throws IOException, InterruptedException {
    signal("QUIT");
  }

  /** Stops the server cleanly (fast shutdown: clients are disconnected). */
  public synchronized void stop() throws IOException, InterruptedException {
    signal("INT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    if (process == null || !process.isAlive()) {
      return;
    }
    new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  String log() throws IOException {
    Path log = root.resolve("postgres.log");
    return Files.exists(log) ? Files.readString(log) : "(no log)";
  }

  private void run(List<String> command, Path log) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(asUser(command)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + Files.readString(log));
    }
  }

  private static List<String> asUser(List<String> command) {
    if (!isRoot()) {
      return command;
    }
    List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "--reset-env"));
    all.addAll(command);
    return all;
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Finds a PostgreSQL program on PATH or in Debian's /usr/lib/postgresql/VERSION/bin, newest first. */
  static String binary(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, name);
      if (f.canExecute()) {
        return f.getAbsolutePath();
      }
    }
    File[] versions = new File("/usr/lib/postgresql").listFiles();
    if (versions != null) {
      Arrays.sort(versions, Comparator.comparing(File::getName, Comparator.comparingInt(v -> {
        try {
          return Integer.parseInt(v);
        } catch (NumberFormatException e) {
          return 0;
        }
      })).reversed());
      for (File v : versions) {
        File f = new File(v, "bin/" + name);
        if (f.canExecute()) {
          return f.getAbsolutePath();
        }
      }
    }
    throw new IllegalStateException(NOT_INSTALLED + " (no " + name + ")");
  }

  @Override
  public void close() throws IOException, InterruptedException {
    stop();
    try (var files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
