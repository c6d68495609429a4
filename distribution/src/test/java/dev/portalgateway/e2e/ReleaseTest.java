package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release as a user gets it: {@code dist/portal-gateway-VERSION.tar.gz} unpacked into an empty
 * folder on a machine whose default {@code java} is older than 21 but that has a JDK 21+ in
 * {@code /usr/lib/jvm}; {@code bin/portal-gateway} finds it. Also the jar run by an old Java, the
 * checksums, and the systemd unit.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReleaseTest {
  private static final Pattern SERVING = Pattern.compile("\"listen\":\"[^\"]*:(\\d+)\",\"admin\":\"[^\"]*:(\\d+)\"");

  @TempDir
  Path dir;

  private Path release;
  private String version;
  private Path tarball;

  @BeforeEach
  void unpack() throws Exception {
    try (Stream<Path> files = Files.list(GatewayProcess.DIST)) {
      List<Path> tarballs = files.filter(p -> p.getFileName().toString().matches("portal-gateway-.+\\.tar\\.gz")).toList();
      assertThat(tarballs).as("one release tarball in " + GatewayProcess.DIST).hasSize(1);
      tarball = tarballs.get(0);
    }
    String name = tarball.getFileName().toString();
    version = name.substring("portal-gateway-".length(), name.length() - ".tar.gz".length());
    release = Files.createDirectory(dir.resolve("release"));
    Programs.Result untar = Programs.run(release, List.of("tar", "-xzf", tarball.toString()));
    assertThat(untar.exitCode()).as(untar.stderr()).isZero();
  }

  /** The variables of a shell whose JAVA_HOME is unset and whose PATH is the system's only. */
  private static Map<String, String> plainShell() {
    Map<String, String> env = new HashMap<>();
    env.put("JAVA_HOME", null);
    env.put("JAVA_OPTS", null);
    env.put("PORTAL_GATEWAY_JAVA_DIRS", null);
    env.put("PATH", "/usr/bin:/bin");
    return env;
  }

  private Programs.Result launcher(Path cwd, Map<String, String> env, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(release.resolve("bin/portal-gateway").toString()));
    command.addAll(List.of(args));
    return Programs.run(cwd, env, command);
  }

  private static Set<String> files(Path root) throws Exception {
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(Files::isRegularFile).map(p -> root.relativize(p).toString())
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /** @return the feature version on the "Java N..." line that --version prints */
  private static int javaOf(String versionOutput) {
    Matcher m = Pattern.compile("(?m)^Java (\\d+)").matcher(versionOutput);
    assertThat(m.find()).as(versionOutput).isTrue();
    return Integer.parseInt(m.group(1));
  }

  @Test
  void theReleaseHoldsTheGatewayALauncherTheUnitAndChecksumsThatVerify() throws Exception {
    Set<String> files = files(release);
    assertThat(files).contains("bin/portal-gateway", "portal-gateway.jar", "config/gateway.yaml",
        "plugins/auth-apikey.jar", "plugins/webhook-retry.jar", "systemd/portal-gateway.service", "LICENSE",
        "SHA256SUMS");
    assertThat(Files.isExecutable(release.resolve("bin/portal-gateway"))).as("bin/portal-gateway is executable").isTrue();
    assertThat(Files.readString(release.resolve("LICENSE"))).startsWith("MIT License")
        .contains("Copyright (c)", "Portal Gateway contributors");

    // SHA256SUMS names every other file of the release, and each one verifies.
    Set<String> summed = Files.readAllLines(release.resolve("SHA256SUMS")).stream()
        .map(l -> l.substring(l.indexOf("  ") + 2)).collect(Collectors.toCollection(TreeSet::new));
    Set<String> others = new TreeSet<>(files);
    others.remove("SHA256SUMS");
    assertThat(summed).isEqualTo(others);
    Programs.Result check = Programs.run(release, List.of("sha256sum", "-c", "SHA256SUMS"));
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
    assertThat(check.stdout().lines()).hasSize(others.size()).allMatch(l -> l.endsWith(": OK"));

    Path sum = GatewayProcess.DIST.resolve(tarball.getFileName() + ".sha256");
    assertThat(Files.readString(sum)).endsWith("  " + tarball.getFileName() + "\n");
    Programs.Result tarCheck = Programs.run(GatewayProcess.DIST, List.of("sha256sum", "-c", sum.getFileName().toString()));
    assertThat(tarCheck.exitCode()).as(tarCheck.stdout() + tarCheck.stderr()).isZero();
  }

  @Test
  void theLauncherFindsAJava21InTheUsualPlacesWhenTheDefaultJavaIsOlder() throws Exception {
    Path old = Programs.olderJava();
    int oldFeature = Programs.feature(old).orElseThrow();

    // env -u JAVA_HOME PATH=/usr/bin:/bin bin/portal-gateway --version
    Programs.Result plain = launcher(dir, plainShell(), "--version");
    assertThat(plain.exitCode()).as(plain.stderr()).isZero();
    assertThat(plain.stdout()).startsWith("portal-gateway " + version + "\n");
    assertThat(javaOf(plain.stdout())).isGreaterThanOrEqualTo(21);

    // A PATH whose java is surely the old one: it says so, and which Java it uses instead.
    Path pathBin = Files.createDirectory(dir.resolve("path-bin"));
    Files.createSymbolicLink(pathBin.resolve("java"), old);
    Map<String, String> env = Programs.with(plainShell(), "PATH", pathBin + ":/usr/bin:/bin");
    Programs.Result passedOver = launcher(dir, env, "--version");
    assertThat(passedOver.exitCode()).as(passedOver.stderr()).isZero();
    int used = javaOf(passedOver.stdout());
    assertThat(used).isGreaterThanOrEqualTo(21);
    assertThat(passedOver.stderr()).contains("java on PATH (" + pathBin.resolve("java") + ") is Java " + oldFeature,
        "it needs Java 21 or newer, so it uses Java " + used + " at ");
  }

  @Test
  void aJavaHomeOlderThan21IsPassedOverWithANoteAndANewerOneIsUsedAsItIs() throws Exception {
    Path oldHome = Programs.home(Programs.olderJava());
    int oldFeature = Programs.feature(Programs.olderJava()).orElseThrow();
    Programs.Result passedOver = launcher(dir, Programs.with(plainShell(), "JAVA_HOME", oldHome.toString()), "version");
    assertThat(passedOver.exitCode()).as(passedOver.stderr()).isZero();
    assertThat(passedOver.stderr()).contains("JAVA_HOME=" + oldHome + " is Java " + oldFeature, "so it uses Java");
    assertThat(javaOf(passedOver.stdout())).isGreaterThanOrEqualTo(21);

    Path mine = Path.of(System.getProperty("java.home")).toRealPath();
    Programs.Result chosen = launcher(dir, Programs.with(plainShell(), "JAVA_HOME", mine.toString()), "version");
    assertThat(chosen.exitCode()).as(chosen.stderr()).isZero();
    assertThat(chosen.stderr()).isEmpty();
    assertThat(chosen.stdout()).contains(" at " + mine + "\n");
  }

  @Test
  void withNoJava21TheLauncherSaysWhatItFoundAndExits1() throws Exception {
    Path old = Programs.olderJava();
    Path oldHome = Programs.home(old);
    Path pathBin = Files.createDirectory(dir.resolve("path-bin"));
    Files.createSymbolicLink(pathBin.resolve("java"), old);
    Path noJdks = Files.createDirectory(dir.resolve("no-jdks"));
    Files.createSymbolicLink(noJdks.resolve("old-jdk"), oldHome);
    Map<String, String> env = Programs.with(plainShell(), "JAVA_HOME", oldHome.toString(),
        "PATH", pathBin + ":/usr/bin:/bin", "PORTAL_GATEWAY_JAVA_DIRS", noJdks.toString());
    Programs.Result r = launcher(dir, env, "--version");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).contains("portal-gateway: needs Java 21 or newer, and found none:",
        "JAVA_HOME=" + oldHome + ": Java", "java on PATH: " + pathBin.resolve("java"), "set JAVA_HOME");
  }

  @Test
  void javaDashJarOnAnOldJavaSaysWhatToDoInsteadOfAStackTrace() throws Exception {
    Path old = Programs.olderJava();
    Programs.Result r = Programs.run(dir, List.of(old.toString(), "-jar",
        release.resolve("portal-gateway.jar").toString(), "--version"));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).startsWith("portal-gateway needs Java 21 or newer; this is Java "
            + Programs.feature(old).orElseThrow())
        .contains(" at " + Programs.home(old) + ".", "bin/portal-gateway", "$JAVA_HOME/bin/java")
        .doesNotContain("Exception", "Error", "\tat ");
  }

  @Test
  void theUnpackedReleaseServesWithItsOwnConfigurationAndKeepsItsDataInData() throws Exception {
    HttpServer backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
    backend.createContext("/hello", ex -> {
      byte[] body = "hello from the backend".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    backend.start();
    Set<String> shipped = files(release);
    Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
    Map<String, String> env = Programs.with(plainShell(), "RELAY_ENABLED", "false",
        "GATEWAY_LISTEN", "127.0.0.1:0", "GATEWAY_ADMIN_LISTEN", "127.0.0.1:0",
        "BACKEND_URL", "http://127.0.0.1:" + backend.getAddress().getPort(),
        "XDG_STATE_HOME", dir.resolve("state").toString());
    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      // A key made from another folder, with the release's configuration, lands where the gateway reads it.
      Programs.Result added = launcher(elsewhere, env, "add-key", "--name", "release-test", "--leases", "backend",
          "--generate", "--config", release.resolve("config/gateway.yaml").toString());
      assertThat(added.exitCode()).as(added.stderr()).isZero();
      Matcher key = Pattern.compile("export GATEWAY_KEY=(\\S+)").matcher(added.stdout());
      assertThat(key.find()).as(added.stdout()).isTrue();
      assertThat(release.resolve("data/plugins/auth-apikey/keys.yaml")).isRegularFile();

      // bin/portal-gateway --config config/gateway.yaml, from the release's folder.
      try (Programs.Running gateway = Programs.start(release, env,
          List.of("bin/portal-gateway", "--config", "config/gateway.yaml"))) {
        Matcher serving = gateway.await(SERVING);
        String base = "http://127.0.0.1:" + serving.group(1);
        HttpResponse<String> withKey = client.send(HttpRequest.newBuilder(URI.create(base + "/peer/backend/hello"))
            .header("Authorization", "Bearer " + key.group(1)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(withKey.statusCode()).isEqualTo(200);
        assertThat(withKey.body()).isEqualTo("hello from the backend");
        assertThat(withKey.headers().firstValue("X-Example")).hasValue("hello");
        HttpResponse<String> without = client.send(HttpRequest.newBuilder(URI.create(base + "/peer/backend/hello")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(without.statusCode()).isEqualTo(401);
        assertThat(gateway.terminate()).as(gateway.stderr()).isZero();
      }
    } finally {
      backend.stop(0);
    }
    // Nothing outside the data directory: not in the folder add-key ran from, not beside the release's files.
    try (Stream<Path> left = Files.list(elsewhere)) {
      assertThat(left).isEmpty();
    }
    Set<String> besideData = files(release).stream().filter(f -> !f.startsWith("data/"))
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(besideData).isEqualTo(shipped);
    assertThat(dir.resolve("state")).doesNotExist();
  }

  @Test
  void theSystemdUnitIsHardenedAndSystemdAnalyzeFindsNothingWrong() throws Exception {
    Path unit = release.resolve("systemd/portal-gateway.service");
    String text = Files.readString(unit);
    assertThat(text).contains("ExecStart=/opt/portal-gateway/bin/portal-gateway --config /opt/portal-gateway/config/gateway.yaml",
        "User=portal-gateway", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/opt/portal-gateway/data",
        "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged");
    assertThat(text.lines()).noneMatch(l -> l.startsWith("MemoryDenyWriteExecute=")); // the JIT writes the code it runs

    // systemd-analyze checks that ExecStart= is there and executable: point the unit at this release.
    Files.createDirectories(release.resolve("data"));
    Path here = dir.resolve("portal-gateway.service");
    Files.writeString(here, text.replace("/opt/portal-gateway", release.toString()));
    Programs.Result verify = Programs.run(dir, List.of("systemd-analyze", "verify", here.toString()));
    assertThat(verify.exitCode()).as(verify.stderr()).isZero();
    assertThat(verify.stderr()).as("warnings from systemd-analyze verify").isEmpty();
  }
}
