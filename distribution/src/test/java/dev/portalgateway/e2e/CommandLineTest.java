package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees from the CLI of the built jar: messages that name the problem and the fix, and exit codes. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CommandLineTest {
  @TempDir
  Path dir;

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
    assertThat(bad.stderr()).contains("unknown command 'frobnicate'");
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
