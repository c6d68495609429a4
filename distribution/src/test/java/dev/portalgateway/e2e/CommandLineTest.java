package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees from the CLI of the built jar: messages that name the problem and the fix, and exit codes. */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CommandLineTest {
  /** Every command: the gateway's own and the plugins' in dist/plugins. */
  private static final List<String> COMMANDS = List.of("serve", "validate-config", "version", "help", "demo", "relay",
      "tunnel", "add-key", "list-keys", "revoke-key", "rotate-key", "webhooks", "show-example-header");

  @TempDir
  Path dir;

  /** @return what is in the test's folder, less the files GatewayProcess.run keeps its output in */
  private Set<String> leftBehind() throws Exception {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString())
          .filter(n -> !n.matches("(out|err)\\d+\\.txt")).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private Path config(String yaml) throws Exception {
    Path file = dir.resolve("c.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void aMisspelledKeyExits2WithTheKeyPath() throws Exception {
    Path c = config("server:\n  listn: \"127.0.0.1:0\"\n");
    GatewayProcess.Result r = GatewayProcess.run(dir, "--config", c.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("server.listn", "listen");
  }

  @Test
  void aPluginNameWithNoJarExits2AndListsTheAvailableNames() throws Exception {
    Path c = config("server:\n  listen: \"127.0.0.1:0\"\n  admin_listen: \"127.0.0.1:0\"\n"
        + "plugins:\n  auth-apikye: {}\n");
    GatewayProcess.Result r = GatewayProcess.run(dir, "--config", c.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("auth-apikye", "plugins available: auth-apikey, cache-mcp, example-header, ratelimit-token-cost");
  }

  @Test
  void validateConfigAcceptsTheShippedConfiguration() throws Exception {
    GatewayProcess.Result r = GatewayProcess.run(dir, "validate-config", "--config",
        GatewayProcess.DIST.resolve("config/gateway.yaml").toString());
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).contains("configuration OK", "backend", "example-header");
  }

  @Test
  void validateConfigRejectsAPluginSettingThePluginRefuses() throws Exception {
    Path c = config("plugins:\n  example-header: { header: \"X-A\", valeu: \"x\" }\n");
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    Files.copy(GatewayProcess.DIST.resolve("plugins/plugin-example.jar"), plugins.resolve("plugin-example.jar"));
    Files.writeString(c, "server:\n  plugins_dir: plugins\n" + Files.readString(c));
    GatewayProcess.Result r = GatewayProcess.run(dir, "validate-config", "--config", c.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("plugins.example-header.valeu");
  }

  @Test
  void aBrokenPluginJarExits2NamingTheJar() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    Files.writeString(plugins.resolve("half-downloaded.jar"), "not a zip");
    Path c = config("server:\n  plugins_dir: plugins\n  listen: \"127.0.0.1:0\"\n  admin_listen: \"127.0.0.1:0\"\n");
    GatewayProcess.Result r = GatewayProcess.run(dir, "--config", c.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("half-downloaded.jar", "fix or remove");
  }

  @Test
  void twoJarsWithOnePluginNameExit2NamingBoth() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    Files.copy(GatewayProcess.DIST.resolve("plugins/plugin-example.jar"), plugins.resolve("a.jar"));
    Files.copy(GatewayProcess.DIST.resolve("plugins/plugin-example.jar"), plugins.resolve("b.jar"));
    Path c = config("server:\n  plugins_dir: plugins\n");
    GatewayProcess.Result r = GatewayProcess.run(dir, "validate-config", "--config", c.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("a.jar", "b.jar", "example-header");
  }

  @Test
  void badYamlAndAMissingFileExit2() throws Exception {
    Path c = config("server: [unclosed\n");
    GatewayProcess.Result bad = GatewayProcess.run(dir, "validate-config", "--config", c.toString());
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.stderr()).contains("not valid YAML", "line");
    GatewayProcess.Result missing = GatewayProcess.run(dir, "--config", dir.resolve("nope.yaml").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.stderr()).contains("nope.yaml", "does not exist");
  }

  @Test
  void versionHelpAndBadUsage() throws Exception {
    GatewayProcess.Result version = GatewayProcess.run(dir, "version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.stdout()).startsWith("portal-gateway ").doesNotContain("unknown");
    GatewayProcess.Result help = GatewayProcess.run(dir, "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.stdout()).contains("validate-config", "--config");
    GatewayProcess.Result bad = GatewayProcess.run(dir, "frobnicate");
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.stderr()).contains("unknown command 'frobnicate'", "add-key");
  }

  @Test
  void theVersionIsACommandAndAnOptionAndNamesTheJavaItRunsOn() throws Exception {
    for (String asked : List.of("version", "--version", "-V")) {
      GatewayProcess.Result r = GatewayProcess.run(dir, asked);
      assertThat(r.exitCode()).as(asked + ": " + r.stderr()).isZero();
      assertThat(r.stdout()).as(asked).matches("portal-gateway \\d+\\.\\d+\\.\\d+\\S*\nJava \\d+\\S* \\(.+\\) at /.+\n")
          .contains(" at " + Path.of(System.getProperty("java.home")));
    }
  }

  @Test
  void everyCommandAnswersHelpWithStatus0AndLeavesNothingBehind() throws Exception {
    Path state = dir.resolve("state");
    Map<String, String> env = Map.of("XDG_STATE_HOME", state.toString());
    Path c = config("server:\n  data_dir: \"gateway-data\"\n");
    Set<String> before = leftBehind();
    for (String command : COMMANDS) {
      GatewayProcess.Result r = GatewayProcess.run(dir, env, command, "--help");
      assertThat(r.exitCode()).as(command + " --help: " + r.stderr()).isZero();
      assertThat(r.stdout()).as(command + " --help").startsWith("Usage: portal-gateway " + command);
      assertThat(r.stderr()).as(command + " --help").isEmpty();
    }
    // -h, after other arguments, with --config, and as help COMMAND: the same, and nothing runs.
    List<List<String>> asked = List.of(
        List.of("add-key", "--name", "x", "--generate", "-h", "--config", c.toString()),
        List.of("list-keys", "--config", c.toString(), "--help"),
        List.of("tunnel", "--relay", "ws://127.0.0.1:9/relay", "--name", "x", "--target", "127.0.0.1:9", "--help"),
        List.of("demo", "--port", "1", "-h"),
        List.of("help", "add-key"),
        List.of("help", "relay"),
        List.of("-h"));
    for (List<String> args : asked) {
      GatewayProcess.Result r = GatewayProcess.run(dir, env, args.toArray(String[]::new));
      assertThat(r.exitCode()).as(args + ": " + r.stderr()).isZero();
      assertThat(r.stdout()).as(args.toString()).startsWith("Usage: portal-gateway");
    }
    assertThat(leftBehind()).isEqualTo(before);
    assertThat(state).doesNotExist();
  }

  @Test
  void badOptionsExit2SayingWhatIsWrongAndLeaveNothingBehind() throws Exception {
    Path c = config("server:\n  data_dir: \"gateway-data\"\n");
    Set<String> before = leftBehind();
    record Case(List<String> args, String... expected) {}
    List<Case> cases = List.of(
        new Case(List.of("relay", "--frob"), "portal-gateway relay: unknown option '--frob'", "Usage: portal-gateway relay"),
        new Case(List.of("relay", "--listen", "nope"), "portal-gateway relay: invalid value for option '--listen'",
            "'nope' is not host:port"),
        new Case(List.of("demo", "--port", "abc"), "portal-gateway demo: invalid value for option '--port': 'abc'"),
        new Case(List.of("tunnel", "--name", "x"), "portal-gateway tunnel: missing required options", "--relay",
            "--target"),
        new Case(List.of("tunnel", "--relay", "ws://127.0.0.1:9/relay", "--name", "x", "--target", "nowhere"),
            "portal-gateway tunnel: invalid value for option '--target'"),
        new Case(List.of("serve", "--frob"), "portal-gateway serve: unknown option '--frob'"),
        new Case(List.of("--frob"), "portal-gateway: unknown option '--frob'", "Usage: portal-gateway"),
        new Case(List.of("--config"), "portal-gateway: missing required parameter for option '--config'"),
        new Case(List.of("validate-config", "--config", c.toString(), "extra"),
            "portal-gateway validate-config: unexpected argument 'extra'"),
        new Case(List.of("version", "--short"), "portal-gateway version: unknown option '--short'"),
        new Case(List.of("relay", "@" + c), "portal-gateway relay: unexpected argument '@" + c + "'"),
        new Case(List.of("add-key", "--config"), "portal-gateway add-key: --config needs a file name"),
        new Case(List.of("list-keys", "--bogus", "--config", c.toString()), "list-keys: unknown option --bogus"),
        new Case(List.of("add-key", "--name", "x", "--generate", "--expires", "yesterday", "--config", c.toString()),
            "add-key:"),
        new Case(List.of("webhooks", "list", "--bogus", "--config", c.toString()), "webhooks: unknown option --bogus"));
    for (Case k : cases) {
      GatewayProcess.Result r = GatewayProcess.run(dir, k.args().toArray(String[]::new));
      assertThat(r.exitCode()).as(k.args() + ": " + r.stderr()).isEqualTo(2);
      assertThat(r.stderr()).as(k.args().toString()).contains(k.expected()).doesNotContain("\tat ");
      assertThat(r.stdout()).as(k.args().toString()).isEmpty();
    }
    assertThat(leftBehind()).isEqualTo(before);
  }

  @Test
  void keyCommandsWithoutAConfigurationSayWhyAndWriteNothing() throws Exception {
    Set<String> before = leftBehind();
    for (List<String> args : List.of(List.of("add-key", "--name", "me", "--generate"), List.of("list-keys"),
        List.of("revoke-key", "k_123456789012"), List.of("rotate-key", "k_123456789012"))) {
      GatewayProcess.Result r = GatewayProcess.run(dir, args.toArray(String[]::new));
      assertThat(r.exitCode()).as(args + ": " + r.stderr()).isEqualTo(2);
      assertThat(r.stderr()).as(args.toString()).contains(args.get(0) + " works on the gateway's data",
          "server.data_dir", "pass --config FILE");
      assertThat(r.stdout()).isEmpty();
    }
    assertThat(leftBehind()).isEqualTo(before);
  }

  @Test
  void keyCommandsThatOnlyReadCreateNoDataDirectory() throws Exception {
    Path c = config("server:\n  data_dir: \"gateway-data\"\n");
    GatewayProcess.Result r = GatewayProcess.run(dir, "list-keys", "--config", c.toString());
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).contains("No keys in " + dir.resolve("gateway-data/plugins/auth-apikey/keys.yaml"));
    assertThat(dir.resolve("gateway-data")).doesNotExist();
    GatewayProcess.Result added = GatewayProcess.run(dir, "add-key", "--name", "me", "--generate", "--config", c.toString());
    assertThat(added.exitCode()).as(added.stderr()).isZero();
    assertThat(dir.resolve("gateway-data/plugins/auth-apikey/keys.yaml")).isRegularFile();
  }

  @Test
  void theTunnelKeepsItsIdentityInTheStateDirectoryNotTheWorkingOne() throws Exception {
    Path cwd = Files.createDirectory(dir.resolve("cwd"));
    Path state = dir.resolve("state");
    Map<String, String> env = Map.of("XDG_STATE_HOME", state.toString());
    HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
    service.start();
    List<String> jar = List.of(GatewayProcess.java(), "-jar", GatewayProcess.DIST.resolve("portal-gateway.jar").toString());
    try (Programs.Running relay = Programs.start(cwd, env, concat(jar, "relay", "--listen", "127.0.0.1:0"))) {
      String url = relay.await(Pattern.compile("Portal development relay at (ws://\\S+)")).group(1);
      List<String> tunnel = concat(jar, "tunnel", "--relay", url, "--name", "e2e-tunnel",
          "--target", "127.0.0.1:" + service.getAddress().getPort());
      Pattern registered = Pattern.compile("Lease 'e2e-tunnel' \\((\\S+)\\) forwards to 127.0.0.1:");
      String first;
      try (Programs.Running t = Programs.start(cwd, env, tunnel)) {
        first = t.await(registered).group(1);
        assertThat(t.terminate()).isZero();
      }
      assertThat(state.resolve("portal-gateway/tunnel-e2e-tunnel.key")).isRegularFile();
      try (Programs.Running t = Programs.start(cwd, env, tunnel)) {
        Matcher again = t.await(registered);
        assertThat(again.group(1)).as("the lease ID after a restart").isEqualTo(first);
        assertThat(t.terminate()).isZero();
      }
      assertThat(relay.terminate()).isZero();
    } finally {
      service.stop(0);
    }
    try (Stream<Path> left = Files.list(cwd)) {
      assertThat(left).as("files in the working directory").isEmpty();
    }
  }

  private static List<String> concat(List<String> head, String... tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(List.of(tail));
    return all;
  }

  @Test
  void pluginsAddCommandsThatRunWithThePluginsConfiguration() throws Exception {
    Path c = config("plugins:\n  example-header: { header: \"X-From-Cli\", value: \"yes\" }\n");
    GatewayProcess.Result r = GatewayProcess.run(dir, "show-example-header", "--config", c.toString());
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).isEqualTo("X-From-Cli: yes\n");

    GatewayProcess.Result help = GatewayProcess.run(dir, "--help");
    assertThat(help.stdout()).contains("show-example-header", "(plugin example-header)");

    GatewayProcess.Result unconfigured = GatewayProcess.run(dir, "show-example-header");
    assertThat(unconfigured.exitCode()).isEqualTo(2);
    assertThat(unconfigured.stderr()).contains("plugins.example-header.header");
  }

  @Test
  void aTakenPortExits1WithTheKeyToChange() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path c = config("server:\n  listen: \"127.0.0.1:" + taken.getLocalPort() + "\"\n  admin_listen: \"127.0.0.1:0\"\n");
      GatewayProcess.Result r = GatewayProcess.run(dir, "--config", c.toString());
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.stderr()).contains("server.listen", String.valueOf(taken.getLocalPort()));
    }
  }
}
