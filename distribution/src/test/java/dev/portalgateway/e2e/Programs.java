package dev.portalgateway.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs programs as a user does from a shell: the release's {@code bin/portal-gateway}, an old
 * {@code java}, {@code tar}, {@code sha256sum}, {@code systemd-analyze}. Their output goes to files
 * outside the working directory, so that a test can check what a command left there.
 */
final class Programs {
  private Programs() {}

  record Result(int exitCode, String stdout, String stderr) {}

  /**
   * Runs a program to completion (60 s at most).
   *
   * @param env variables to set; a {@code null} value removes the variable
   */
  static Result run(Path cwd, Map<String, String> env, List<String> command) throws IOException, InterruptedException {
    Path logs = Files.createTempDirectory("program-output");
    Path out = logs.resolve("stdout");
    Path err = logs.resolve("stderr");
    Process p = builder(cwd, env, command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
    }
    Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    Files.delete(logs);
    return r;
  }

  static Result run(Path cwd, List<String> command) throws IOException, InterruptedException {
    return run(cwd, Map.of(), command);
  }

  private static ProcessBuilder builder(Path cwd, Map<String, String> env, List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    env.forEach((k, v) -> {
      if (v == null) {
        pb.environment().remove(k);
      } else {
        pb.environment().put(k, v);
      }
    });
    return pb;
  }

  /** Starts a program that runs until it is stopped. */
  static Running start(Path cwd, Map<String, String> env, List<String> command) throws IOException {
    Path logs = Files.createTempDirectory("program-output");
    Path out = logs.resolve("stdout");
    Path err = logs.resolve("stderr");
    Process p = builder(cwd, env, command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    return new Running(p, out, err, String.join(" ", command));
  }

  /** A started program. Closing it kills it if it still runs. */
  static final class Running implements AutoCloseable {
    private final Process process;
    private final Path out;
    private final Path err;
    private final String name;

    private Running(Process process, Path out, Path err, String name) {
      this.process = process;
      this.out = out;
      this.err = err;
      this.name = name;
    }

    String stdout() throws IOException {
      return Files.readString(out, StandardCharsets.UTF_8);
    }

    String stderr() throws IOException {
      return Files.readString(err, StandardCharsets.UTF_8);
    }

    /** Waits up to 60 s for {@code pattern} in standard output and returns its match. */
    Matcher await(Pattern pattern) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        Matcher m = pattern.matcher(stdout());
        if (m.find()) {
          return m;
        }
        if (!process.isAlive()) {
          throw new AssertionError(name + " exited with " + process.exitValue() + " before printing " + pattern + ":\n"
              + stdout() + stderr());
        }
        Thread.sleep(50);
      }
      throw new AssertionError(name + " did not print " + pattern + " in 60 s:\n" + stdout() + stderr());
    }

    /** Sends SIGTERM and waits up to 60 s for the exit status. */
    int terminate() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(name + " did not exit within 60 s of SIGTERM");
      }
      return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException, IOException {
      if (process.isAlive()) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      Files.deleteIfExists(out.getParent());
    }
  }

  /**
   * A Java older than 21 on this machine: the default {@code java} on this kind of machine is 17
   * ({@code .ci/run} installs {@code openjdk-17-jre-headless} where none is there).
   *
   * @return its {@code bin/java}
   */
  static Path olderJava() throws IOException {
    List<Path> candidates = new java.util.ArrayList<>();
    Path usrBinJava = Path.of("/usr/bin/java");
    if (Files.isExecutable(usrBinJava)) {
      candidates.add(usrBinJava.toRealPath());
    }
    Path jvms = Path.of("/usr/lib/jvm");
    if (Files.isDirectory(jvms)) {
      try (Stream<Path> homes = Files.list(jvms)) {
        homes.sorted().map(h -> h.resolve("bin/java")).filter(Files::isExecutable).forEach(candidates::add);
      }
    }
    for (Path java : candidates) {
      if (feature(java).filter(f -> f < 21).isPresent()) {
        return java;
      }
    }
    throw new AssertionError("no Java older than 21 in /usr/bin/java or /usr/lib/jvm; these tests need one: "
        + "apt-get install openjdk-17-jre-headless (.ci/run does)");
  }

  /** @return the JDK folder of a {@code bin/java} */
  static Path home(Path java) throws IOException {
    return java.toRealPath().getParent().getParent();
  }

  /** @return the feature version that the {@code release} file of the java's JDK names */
  static Optional<Integer> feature(Path java) throws IOException {
    Path release = home(java).resolve("release");
    if (!Files.isReadable(release)) {
      return Optional.empty();
    }
    Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(?:1\\.)?(\\d+)").matcher(Files.readString(release));
    return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
  }

  /** @return a copy of {@code env} with more entries */
  static Map<String, String> with(Map<String, String> env, String... pairs) {
    Map<String, String> all = new HashMap<>(env);
    for (int i = 0; i < pairs.length; i += 2) {
      all.put(pairs[i], pairs[i + 1]);
    }
    return all;
  }
}
