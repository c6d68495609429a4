package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Real podman, as the container tests use it: every call is a {@code podman} (or
 * {@code podman-compose}) process with {@code CONTAINERS_CONF} pointing at
 * {@code src/test/containers/containers.conf} unless the environment sets one, and bounded in
 * time. The images are built here, each at most once per content: the Debian base with
 * {@code make-debian-base.sh} when {@code localhost/debian-base:bookworm} is missing, the gateway
 * image from the repository's {@code Dockerfile} tagged with a digest of everything it copies, so
 * an unchanged build is found with {@code podman image exists} and reused.
 */
final class Podman {
  static final Path ROOT = GatewayProcess.DIST.getParent();
  static final Path CONTAINERS = ROOT.resolve("distribution/src/test/containers");
  static final String BASE_IMAGE = "localhost/debian-base:bookworm";
  /** The JDK whose jlink makes the image's runtime: the one running the tests (JDK 21 or newer). */
  static final Path JDK = Path.of(System.getProperty("java.home"));
  private static final String APT = "apt-get install -y podman runc catatonit netavark aardvark-dns iptables debootstrap "
      + "podman-compose (.ci/run installs them)";
  /** Serializes image builds between test JVMs on one machine, so that two never debootstrap at once. */
  private static final Path BUILD_LOCK = Path.of(System.getProperty("java.io.tmpdir"), "portal-gateway-e2e-images.lock");

  private final Map<String, String> env = new LinkedHashMap<>();
  private final Path logs;

  private Podman() {
    String conf = System.getenv("CONTAINERS_CONF");
    env.put("CONTAINERS_CONF", conf != null && !conf.isBlank() ? conf : CONTAINERS.resolve("containers.conf").toString());
    logs = ROOT.resolve("distribution/target/container-logs");
    try {
      Files.createDirectories(logs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** @return podman, or an {@link AssertionError} that says what to install: these tests never skip */
  static Podman require() throws InterruptedException {
    Podman podman = new Podman();
    try {
      Result r = podman.run(Duration.ofSeconds(60), List.of("podman", "--version"), Map.of());
      if (r.exitCode() != 0) {
        throw new AssertionError("podman does not work here (" + r.stderr().strip() + "); the container tests need "
            + APT);
      }
    } catch (IOException e) {
      throw new AssertionError("podman is not installed; the container tests need " + APT, e);
    }
    return podman;
  }

  /** @return this, after checking that podman-compose is installed */
  Podman requireCompose() throws InterruptedException {
    try {
      Result r = run(Duration.ofSeconds(60), List.of("podman-compose", "version"), Map.of());
      if (r.exitCode() != 0) {
        throw new AssertionError("podman-compose does not work here (" + r.all().strip() + "); " + APT);
      }
    } catch (IOException e) {
      throw new AssertionError("podman-compose is not installed; the compose test needs " + APT, e);
    }
    return this;
  }

  /** A finished process. */
  record Result(int exitCode, String stdout, String stderr) {
    String all() {
      return stdout + stderr;
    }
  }

  /** Runs {@code podman ARGS} to completion, within two minutes. */
  Result podman(String... args) throws IOException, InterruptedException {
    return run(Duration.ofMinutes(2), podmanCommand(args), Map.of());
  }

  /** Runs {@code podman ARGS} and returns its stdout; an exit status other than 0 fails the test. */
  String check(String... args) throws IOException, InterruptedException {
    Result r = podman(args);
    assertThat(r.exitCode()).as("podman %s:%n%s", String.join(" ", args), r.all()).isZero();
    return r.stdout();
  }

  /** Starts {@code podman ARGS} with these variables added, without waiting for it. */
  Process start(Map<String, String> extraEnv, String... args) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(podmanCommand(args)).redirectErrorStream(true)
        .redirectOutput(Files.createTempFile(logs, "podman", ".log").toFile());
    pb.environment().putAll(env);
    pb.environment().putAll(extraEnv);
    return pb.start();
  }

  /** Runs any command (podman-compose, podman with variables) with podman's settings, within {@code timeout}. */
  Result run(Duration timeout, List<String> command, Map<String, String> extraEnv) throws IOException, InterruptedException {
    Path out = Files.createTempFile(logs, "out", ".txt");
    Path err = Files.createTempFile(logs, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(env);
    pb.environment().putAll(extraEnv);
    Process p = pb.start();
    try {
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(String.join(" ", command) + " did not finish in " + timeout.toSeconds() + " s:\n"
            + Files.readString(out) + quiet(Files.readString(err)));
      }
      return new Result(p.exitValue(), Files.readString(out), quiet(Files.readString(err)));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** @return a file in target/container-logs, where build logs are too */
  Path logFile(String name) {
    return logs.resolve(name);
  }

  boolean imageExists(String image) throws IOException, InterruptedException {
    return podman("image", "exists", image).exitCode() == 0;
  }

  /** @return {@link #BASE_IMAGE}, made with debootstrap first when it is missing (one to two minutes, once per machine) */
  String baseImage() throws IOException, InterruptedException {
    return underBuildLock(() -> {
      if (!imageExists(BASE_IMAGE)) {
        build("debian-base", Duration.ofMinutes(15),
            List.of("bash", CONTAINERS.resolve("make-debian-base.sh").toString(), BASE_IMAGE));
      }
      return BASE_IMAGE;
    });
  }

  /**
   * The gateway image from the repository's {@code Dockerfile} and the laid-out {@code dist/}, with
   * the local base for both stages and the test's own JDK mounted where the first stage expects
   * one, as docs/deployment.md#building-without-a-registry shows. Tagged
   * {@code localhost/portal-gateway-e2e:<digest>}; older tags of that name are removed.
   */
  String gatewayImage() throws IOException, InterruptedException {
    String base = baseImage();
    List<Path> inputs = List.of(ROOT.resolve("Dockerfile"), ROOT.resolve(".dockerignore"), ROOT.resolve("deploy/docker"),
        GatewayProcess.DIST.resolve("portal-gateway.jar"), GatewayProcess.DIST.resolve("plugins"), JDK.resolve("release"));
    String image = "localhost/portal-gateway-e2e:" + digest(inputs);
    return underBuildLock(() -> {
      if (!imageExists(image)) {
        build("gateway", Duration.ofMinutes(20), podmanCommand("build", "--pull=never", "--format", "docker",
            "-v", JDK + ":/opt/java/openjdk:ro", "-v", "/etc/ssl/certs/java:/etc/ssl/certs/java:ro",
            "--build-arg", "JDK_IMAGE=" + base, "--build-arg", "BASE_IMAGE=" + base,
            "-f", ROOT.resolve("Dockerfile").toString(), "-t", image, ROOT.toString()));
        removeOtherTags("localhost/portal-gateway-e2e", image);
        // The jlink stage's images are cache for this very build only, which is never repeated.
        podman("image", "prune", "-f", "--filter", "label=dev.portalgateway.build-stage=jlink");
      }
      return image;
    });
  }

  /**
   * An image from {@code dir}'s Dockerfile with the local base, tagged with a digest of the
   * directory, built only when that tag is missing.
   */
  String imageFrom(Path dir, String repository) throws IOException, InterruptedException {
    String base = baseImage();
    String image = repository + ":" + digest(List.of(dir));
    return underBuildLock(() -> {
      if (!imageExists(image)) {
        build(dir.getFileName().toString(), Duration.ofMinutes(20), podmanCommand("build", "--pull=never",
            "--format", "docker", "--build-arg", "BASE_IMAGE=" + base, "-t", image, dir.toString()));
        removeOtherTags(repository, image);
      }
      return image;
    });
  }

  private void build(String what, Duration timeout, List<String> command) throws IOException, InterruptedException {
    Path log = logs.resolve("build-" + what + ".log");
    ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("building " + what + " took longer than " + timeout.toMinutes() + " min; see " + log);
    }
    if (p.exitValue() != 0) {
      List<String> lines = Files.readAllLines(log);
      throw new AssertionError("building " + what + " failed (" + String.join(" ", command) + "):\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
    }
  }

  /** Leaves one image of {@code repository} behind, so that repeated runs do not pile images up. */
  private void removeOtherTags(String repository, String keep) throws IOException, InterruptedException {
    for (String tagged : podman("images", "--format", "{{.Repository}}:{{.Tag}}", repository).stdout().lines().toList()) {
      if (!tagged.isBlank() && !tagged.equals(keep)) {
        podman("rmi", tagged); // refused while a container uses it: then it stays
      }
    }
  }

  /** Removes containers and volumes by name, ignoring those that are not there. */
  void removeQuietly(List<String> containers, List<String> volumes) {
    try {
      for (String c : containers) {
        podman("rm", "-f", "-v", "-t", "0", c); // -v: the anonymous volume of /etc/portal-gateway too
      }
      for (String v : volumes) {
        podman("volume", "rm", "-f", v);
      }
    } catch (IOException | InterruptedException e) {
      // Clean-up only: the test's own outcome is what matters.
    }
  }

  private interface Step<T> {
    T run() throws IOException, InterruptedException;
  }

  private static <T> T underBuildLock(Step<T> step) throws IOException, InterruptedException {
    synchronized (Podman.class) {
      try (FileChannel ch = FileChannel.open(BUILD_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
           FileLock ignored = ch.lock()) {
        return step.run();
      }
    }
  }

  private static List<String> podmanCommand(String... args) {
    List<String> command = new ArrayList<>(List.of("podman"));
    command.addAll(List.of(args));
    return command;
  }

  /** Drops podman 4.3's warning about Debian's unused CNI file, printed on every call. */
  private static String quiet(String stderr) {
    return stderr.lines().filter(l -> !l.contains("Error validating CNI config file"))
        .collect(Collectors.joining("\n", "", stderr.isEmpty() ? "" : "\n"));
  }

  /** @return 12 hex digits of the SHA-256 over the paths (files, or directories walked in order) and their bytes */
  static String digest(List<Path> paths) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (Path root : paths) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(root)) {
        files = walk.filter(Files::isRegularFile).sorted().toList();
      }
      for (Path f : files) {
        sha.update(ROOT.relativize(f.toAbsolutePath().normalize()).toString().getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(Files.readAllBytes(f));
        sha.update((byte) (Files.isExecutable(f) ? 1 : 0));
      }
    }
    return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
  }
}
