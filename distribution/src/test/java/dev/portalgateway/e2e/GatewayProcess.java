package dev.portalgateway.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The built gateway, started as a user starts it: {@code java -jar dist/portal-gateway.jar ...}. */
final class GatewayProcess implements AutoCloseable {
  static final Path DIST = Path.of(System.getProperty("dist.dir", "../dist")).toAbsolutePath().normalize();
  private static final Pattern SERVING = Pattern.compile("\"listen\":\"[^\"]*:(\\d+)\",\"admin\":\"[^\"]*:(\\d+)\"");

  private final Process process;
  private final Path stdout;
  private final Path stderr;
  int port;
  int adminPort;

  private GatewayProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** The java that runs these tests: a JDK ≥ 21, as the build requires. */
  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** Runs a CLI command to completion and returns its exit status and output. */
  static Result run(Path workDir, String... args) throws IOException, InterruptedException {
    return run(workDir, Map.of(), args);
  }

  /** Runs a CLI command with these environment variables added, to completion. */
  static Result run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(java(), "-jar", DIST.resolve("portal-gateway.jar").toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(workDir, "out", ".txt");
    Path err = Files.createTempFile(workDir, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("portal-gateway " + String.join(" ", args) + " did not finish in 60 s");
    }
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  record Result(int exitCode, String stdout, String stderr) {}

  /** Starts {@code serve --config file} and waits until it logs that it is serving. */
  static GatewayProcess serve(Path workDir, Path config) throws IOException, InterruptedException {
    return serve(workDir, config, Map.of());
  }

  /** Starts {@code serve --config file} with these environment variables added. */
  static GatewayProcess serve(Path workDir, Path config, Map<String, String> env) throws IOException, InterruptedException {
    Path out = workDir.resolve("gateway.stdout");
    Path err = workDir.resolve("gateway.stderr");
    ProcessBuilder pb = new ProcessBuilder(java(), "-jar", DIST.resolve("portal-gateway.jar").toString(), "--config",
        config.toString()).directory(workDir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    GatewayProcess g = new GatewayProcess(p, out, err);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      Matcher m = SERVING.matcher(g.stdout());
      if (m.find()) {
        g.port = Integer.parseInt(m.group(1));
        g.adminPort = Integer.parseInt(m.group(2));
        return g;
      }
      if (!p.isAlive()) {
        throw new AssertionError("the gateway exited with " + p.exitValue() + ":\n" + g.stdout() + g.stderr());
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new AssertionError("the gateway did not start in 60 s:\n" + g.stdout() + g.stderr());
  }

  String stdout() throws IOException {
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  String stderr() throws IOException {
    return Files.readString(stderr, StandardCharsets.UTF_8);
  }

  /** Sends SIGTERM and waits for the exit status. */
  int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the gateway did not exit within 60 s of SIGTERM");
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }
}
