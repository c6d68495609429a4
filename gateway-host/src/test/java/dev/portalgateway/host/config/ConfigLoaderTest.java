package dev.portalgateway.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final Path DEFAULT_PLUGINS = Path.of("/opt/gw/plugins");

  @TempDir Path dir;

  private final ConfigLoader loader = new ConfigLoader(
      Map.of("LISTEN", ":9999", "MAX_BODY", "1MiB", "ACCESS_LOG", "false", "UPSTREAM_HOST", "10.1.2.3")::get,
      DEFAULT_PLUGINS);

  private LoadedConfig load(String yaml) throws ConfigException {
    return loader.fromText(yaml, dir.resolve("gateway.yaml"));
  }

  private static void assertRejected(ThrowingLoad load, String... fragments) {
    assertThatThrownBy(load::run)
        .isInstanceOf(ConfigException.class)
        .message()
        .contains(fragments);
  }

  private interface ThrowingLoad {
    void run() throws Exception;
  }

  // ---- defaults ----

  @Test
  void aKeyTwiceInOneMappingIsRefusedWithItsLine() {
    // The second entry would silently replace the first: here, turn authentication off.
    assertRejected(() -> load("plugins:\n  auth-apikey:\n    keys_file: keys.yaml\n  example-header: {}\n"
        + "  auth-apikey: { enabled: false }\n"), "the key 'auth-apikey' appears twice", "line 5", "merge them");
    assertRejected(() -> load("server:\n  listen: \":8080\"\n  listen: \":9999\"\n"), "'listen' appears twice", "line 3");
    assertRejected(() -> load("upstreams:\n  a: http://127.0.0.1:1\nupstreams:\n  b: http://127.0.0.1:2\n"),
        "'upstreams' appears twice");
  }

  @Test
  void emptyTextGivesTheDefaults() throws ConfigException {
    LoadedConfig loaded = load("");
    GatewayConfig c = loaded.config();

    assertThat(c.server().listen()).isEqualTo(":8080");
    assertThat(c.server().adminListen()).isEqualTo("127.0.0.1:9090");
    assertThat(c.server().httpProvider()).isEqualTo("portal");
    assertThat(c.server().maxBodyBytes()).isEqualTo(10L * 1024 * 1024);
    assertThat(c.server().maxHeaderBytes()).isEqualTo(64L * 1024);
    assertThat(c.server().trustedProxies()).isEmpty();
    assertThat(c.server().accessLog()).isTrue();
    assertThat(c.proxy().connectTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.proxy().responseTimeout()).isEqualTo(Duration.ofSeconds(300));
    assertThat(c.proxy().idleTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.relay().url()).isEqualTo("ws://localhost:4017/relay");
    assertThat(c.relay().urls()).isEmpty();
    assertThat(c.cors().enabled()).isFalse();
    assertThat(c.upstreams()).isEmpty();
    assertThat(c.plugins()).isEmpty();
    assertThat(loaded.paths().configFile()).isEqualTo(dir.resolve("gateway.yaml"));
    assertThat(loaded.paths().pluginsDir()).isEqualTo(DEFAULT_PLUGINS);
    assertThat(loaded.paths().dataDir()).isEqualTo(dir.toAbsolutePath().resolve("data"));
  }

  @Test
  void aCommentOnlyFileGivesTheDefaults() throws ConfigException {
    assertThat(load("# nothing here\n").config()).isEqualTo(load("").config());
  }

  @Test
  void loadWithoutAFileGivesTheDefaultsResolvedAgainstTheWorkingDirectory() throws ConfigException {
    LoadedConfig loaded = loader.load(null);

    assertThat(loaded.config().server().listen()).isEqualTo(":8080");
    assertThat(loaded.paths().configFile()).isNull();
    assertThat(loaded.paths().pluginsDir()).isEqualTo(DEFAULT_PLUGINS);
    assertThat(loaded.paths().dataDir()).isEqualTo(Path.of("").toAbsolutePath().resolve("data"));
  }

  @Test
  void loadReadsTheFile() throws Exception {
    Path file = dir.resolve("gw.yaml");
    Files.writeString(file, "server:\n  listen: \":7000\"\n");

    LoadedConfig loaded = loader.load(file);

    assertThat(loaded.config().server().listen()).isEqualTo(":7000");
    assertThat(loaded.paths().configFile()).isEqualTo(file);
  }

  @Test
  void aMissingFileNamesThePathAndTheConfigOption() {
    Path missing = dir.resolve("nope.yaml");

    assertRejected(() -> loader.load(missing), missing.toString(), "does not exist", "--config");
  }

  // ---- paths ----

  @Test
  void relativeDirectoriesResolveAgainstTheConfigFilesFolder() throws ConfigException {
    Path sub = dir.resolve("etc");
    LoadedConfig loaded = loader.fromText(
        "server:\n  plugins_dir: ../plugins\n  data_dir: state/gw\n", sub.resolve("gateway.yaml"));

    assertThat(loaded.paths().pluginsDir()).isEqualTo(dir.toAbsolutePath().resolve("plugins"));
    assertThat(loaded.paths().dataDir()).isEqualTo(sub.toAbsolutePath().resolve("state/gw"));
  }

  @Test
  void absoluteDirectoriesAreKept() throws ConfigException {
    LoadedConfig loaded = load("server:\n  plugins_dir: /srv/plugins\n  data_dir: /var/lib/gw\n");

    assertThat(loaded.paths().pluginsDir()).isEqualTo(Path.of("/srv/plugins"));
    assertThat(loaded.paths().dataDir()).isEqualTo(Path.of("/var/lib/gw"));
  }

  // ---- binding ----

  @Test
  void bindsSnakeCaseKeysDurationsAndSizes() throws ConfigException {
    GatewayConfig c = load("""
        server:
          listen: "127.0.0.1:8081"
          admin_listen: ":9191"
          http_provider: jdk
          max_header_bytes: 32KiB
          max_body_bytes: 1048576
          request_read_timeout: 10s
          shutdown_grace: 1m
          config_reload_interval: 0
          trusted_proxies: ["10.0.0.0/8", "::1"]
          access_log: false
        proxy:
          connect_timeout: 1500ms
          response_timeout: 2
          sse_keepalive: 15s
          idle_timeout: 90s
        relay:
          url: wss://relay.example/relay
          urls: ["ws://10.0.0.1/relay"]
        """).config();

    assertThat(c.server().listen()).isEqualTo("127.0.0.1:8081");
    assertThat(c.server().adminListen()).isEqualTo(":9191");
    assertThat(c.server().httpProvider()).isEqualTo("jdk");
    assertThat(c.server().maxHeaderBytes()).isEqualTo(32 * 1024L);
    assertThat(c.server().maxBodyBytes()).isEqualTo(1048576L);
    assertThat(c.server().requestReadTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.server().shutdownGrace()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.server().configReloadInterval()).isEqualTo(Duration.ZERO);
    assertThat(c.server().trustedProxies()).containsExactly("10.0.0.0/8", "::1");
    assertThat(c.server().accessLog()).isFalse();
    assertThat(c.proxy().connectTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(c.proxy().responseTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.proxy().sseKeepalive()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.proxy().idleTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.relay().url()).isEqualTo("wss://relay.example/relay");
    assertThat(c.relay().urls()).containsExactly("ws://10.0.0.1/relay");
  }

  @Test
  void aMisspelledKeyNamesItsPathAndTheAllowedKeys() {
    assertRejected(() -> load("server: { listn: \":8080\" }"),
        "gateway.yaml", "server.listn", "listen", "admin_listen", "max_body_bytes");
  }

  @Test
  void aMisspelledTopLevelKeyNamesIt() {
    assertRejected(() -> load("upstream:\n  a: http://127.0.0.1:1\n"), "upstream", "upstreams", "plugins");
  }

  @Test
  void aMisspelledKeyInAnUpstreamMappingNamesItsPath() {
    assertRejected(() -> load("upstreams:\n  api:\n    url: http://127.0.0.1:3000\n    conect_timeout: 5s\n"),
        "upstreams.api.conect_timeout", "connect_timeout");
  }

  @Test
  void aBadDurationNamesTheKeyPathAndTheValue() {
    assertRejected(() -> load("proxy:\n  connect_timeout: 5 parsecs\n"),
        "proxy.connect_timeout", "5 parsecs", "30s");
  }

  @Test
  void aBadDurationInAnUpstreamNamesTheKeyPath() {
    assertRejected(() -> load("upstreams:\n  api:\n    url: http://127.0.0.1:3000\n    response_timeout: soon\n"),
        "upstreams.api.response_timeout", "soon");
  }

  @Test
  void aBadSizeNamesTheKeyPathAndTheValue() {
    assertRejected(() -> load("server:\n  max_body_bytes: 10 parsecs\n"),
        "server.max_body_bytes", "10 parsecs", "10MiB");
  }

  @Test
  void aListWhereAMappingBelongsIsRejected() {
    assertRejected(() -> load("server:\n  - listen\n"), "server");
  }

  @Test
  void aMappingWhereAStringBelongsIsRejected() {
    assertRejected(() -> load("server:\n  listen:\n    port: 1\n"), "server.listen");
  }

  // ---- upstreams ----

  @Test
  void upstreamsTakeTheStringAndTheMappingForm() throws ConfigException {
    GatewayConfig c = load("""
        proxy:
          connect_timeout: 3s
          response_timeout: 60s
        upstreams:
          plain: "http://127.0.0.1:3000"
          tuned:
            url: https://10.0.0.2:8443/base
            response_timeout: 10m
            sse_keepalive: 20s
            idle_timeout: 4s
            cors:
              allowed_origins: ["https://app.example"]
        """).config();

    assertThat(c.upstreams()).containsOnlyKeys("plain", "tuned");
    assertThat(c.upstreams().keySet()).containsExactly("plain", "tuned");
    UpstreamConfig plain = c.upstreams().get("plain");
    assertThat(plain.url()).isEqualTo("http://127.0.0.1:3000");
    assertThat(plain.connectTimeout()).isNull();
    assertThat(c.proxy().overriddenBy(plain)).isEqualTo(c.proxy());

    UpstreamConfig tuned = c.upstreams().get("tuned");
    assertThat(tuned.url()).isEqualTo("https://10.0.0.2:8443/base");
    ProxyConfig effective = c.proxy().overriddenBy(tuned);
    assertThat(effective.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(effective.responseTimeout()).isEqualTo(Duration.ofMinutes(10));
    assertThat(effective.sseKeepalive()).isEqualTo(Duration.ofSeconds(20));
    assertThat(effective.idleTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(tuned.cors().enabled()).isTrue();
    assertThat(tuned.cors().allowedOrigins()).containsExactly("https://app.example");
  }

  @Test
  void anUpstreamNameWithBadCharactersIsRejected() {
    assertRejected(() -> load("upstreams:\n  \"my api\": http://127.0.0.1:1\n"),
        "upstreams.my api", "letters, digits");
    assertRejected(() -> load("upstreams:\n  \"a/b\": http://127.0.0.1:1\n"), "upstreams.a/b");
    assertRejected(() -> load("upstreams:\n  \"-a\": http://127.0.0.1:1\n"), "upstreams.-a");
  }

  @Test
  void anUpstreamNameMayUseDotsDashesAndUnderscores() throws ConfigException {
    assertThat(load("upstreams:\n  My_api-2.v1: http://127.0.0.1:1\n").config().upstreams())
        .containsKey("My_api-2.v1");
  }

  @Test
  void anUpstreamUrlThatIsNotHttpIsRejected() {
    assertRejected(() -> load("upstreams:\n  a: ftp://127.0.0.1/x\n"), "upstreams.a", "ftp://127.0.0.1/x", "http://");
    assertRejected(() -> load("upstreams:\n  a: ws://127.0.0.1/x\n"), "upstreams.a", "http://");
    assertRejected(() -> load("upstreams:\n  a: 127.0.0.1:3000\n"), "upstreams.a");
  }

  @Test
  void anUpstreamUrlWithoutHostQueryOrWithBadSyntaxIsRejected() {
    assertRejected(() -> load("upstreams:\n  a: \"http:///x\"\n"), "upstreams.a", "no host");
    assertRejected(() -> load("upstreams:\n  a: \"http://127.0.0.1/x?y=1\"\n"), "upstreams.a", "query");
    assertRejected(() -> load("upstreams:\n  a: \"http://127.0.0.1/a b\"\n"), "upstreams.a", "not a URL");
  }

  @Test
  void anUpstreamWithoutAUrlIsRejected() {
    assertRejected(() -> load("upstreams:\n  a:\n"), "upstreams.a", "needs a url");
    assertRejected(() -> load("upstreams:\n  a:\n    response_timeout: 5s\n"), "upstreams.a", "needs a url");
  }

  @Test
  void aZeroUpstreamTimeoutIsRejected() {
    assertRejected(() -> load("upstreams:\n  a:\n    url: http://127.0.0.1:1\n    connect_timeout: 0s\n"),
        "upstreams.a.connect_timeout", "greater than zero");
  }

  // ---- other validation ----

  @Test
  void aRelayUrlThatIsNotWebSocketIsRejected() {
    assertRejected(() -> load("relay:\n  url: http://relay.example/relay\n"), "relay.url", "ws://");
    assertRejected(() -> load("relay:\n  urls: [\"wss://ok.example/r\", \"https://bad.example/r\"]\n"),
        "relay.urls[1]", "ws://");
  }

  @Test
  void corsCredentialsWithAnyOriginAreRejected() {
    assertRejected(() -> load("cors:\n  allow_credentials: true\n"), "cors.allow_credentials", "list the origins");
    assertRejected(() -> load("""
        upstreams:
          a:
            url: http://127.0.0.1:1
            cors:
              allowed_origins: ["*"]
              allow_credentials: true
        """), "upstreams.a.cors.allow_credentials");
  }

  @Test
  void corsCredentialsWithListedOriginsAreAccepted() throws ConfigException {
    CorsConfig cors = load("cors:\n  allowed_origins: [\"https://app.example\"]\n  allow_credentials: true\n")
        .config().cors();

    assertThat(cors.enabled()).isTrue();
    assertThat(cors.allowCredentials()).isTrue();
  }

  @Test
  void anUnknownHttpProviderIsRejected() {
    assertRejected(() -> load("server:\n  http_provider: netty\n"), "server.http_provider", "netty", "robaho", "jdk");
  }

  @Test
  void aBadListenAddressIsRejected() {
    assertRejected(() -> load("server:\n  listen: \"8080\"\n"), "server.listen", "host:port");
    assertRejected(() -> load("server:\n  admin_listen: \":99999\"\n"), "server.admin_listen", "out of range");
  }

  @Test
  void aBadTrustedProxyIsRejectedWithItsIndex() {
    assertRejected(() -> load("server:\n  trusted_proxies: [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n"),
        "server.trusted_proxies[1]", "10.0.0.0/33");
    assertRejected(() -> load("server:\n  trusted_proxies: [\"proxy.internal\"]\n"),
        "server.trusted_proxies[0]", "proxy.internal");
  }

  @Test
  void nonPositiveLimitsAreRejected() {
    assertRejected(() -> load("server:\n  max_body_bytes: 0\n"), "server.max_body_bytes", "greater than zero");
    assertRejected(() -> load("server:\n  request_read_timeout: PT-5S\n"), "server.request_read_timeout");
    assertRejected(() -> load("proxy:\n  sse_keepalive: PT-1S\n"), "proxy.sse_keepalive", "negative");
    assertRejected(() -> load("proxy:\n  idle_timeout: 0s\n"), "proxy.idle_timeout", "greater than zero");
    assertRejected(() -> load("upstreams:\n  a: { url: \"http://127.0.0.1:1\", idle_timeout: 0s }\n"),
        "upstreams.a.idle_timeout", "greater than zero");
  }

  @Test
  void aPluginValueThatIsNotAMappingIsRejected() {
    assertRejected(() -> load("plugins:\n  auth-apikey: yes please\n"), "plugins.auth-apikey", "mapping");
    assertRejected(() -> load("plugins:\n  auth-apikey: [a, b]\n"), "plugins.auth-apikey", "mapping");
  }

  @Test
  void aPluginEnabledFlagMustBeABoolean() {
    assertRejected(() -> load("plugins:\n  auth-apikey:\n    enabled: maybe\n"), "plugins.auth-apikey.enabled");
  }

  @Test
  void aPluginWithoutSettingsIsAccepted() throws ConfigException {
    GatewayConfig c = load("plugins:\n  x:\n  y: {}\n  z:\n    keys_file: keys.txt\n").config();

    assertThat(c.plugins()).containsOnlyKeys("x", "y", "z");
    assertThat(c.plugins().keySet()).containsExactly("x", "y", "z");
    assertThat(c.plugins().get("z").get("keys_file").textValue()).isEqualTo("keys.txt");
  }

  // ---- per-route plugin settings ----

  @Test
  void pluginRoutesTakeNamesAndPatternsWithSettingsOrNone() throws ConfigException {
    GatewayConfig c = load("""
        plugins:
          x:
            enabled: false
            routes:
              docs: { enabled: true, tag: d }
              "api-*": {}
              hooks:
              internal.v2_b-c:
          y:
            routes:
          z:
            routes: {}
        """).config();

    assertThat(c.plugins().get("x").get("routes").fieldNames()).toIterable()
        .containsExactly("docs", "api-*", "hooks", "internal.v2_b-c");
  }

  @Test
  void pluginRoutesThatAreNotAMappingAreRejected() {
    assertRejected(() -> load("plugins:\n  x:\n    routes: [docs, hooks]\n"), "plugins.x.routes:", "mapping");
    assertRejected(() -> load("plugins:\n  x:\n    routes: docs\n"), "plugins.x.routes:", "mapping");
  }

  @Test
  void aRouteKeyWithCharactersOutsideNamesAndStarsIsRejected() {
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      \"a/b\": {}\n"), "plugins.x.routes.a/b:",
        "route key");
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      \"api v1\": {}\n"), "plugins.x.routes.api v1:",
        "route key");
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      \"api?\": {}\n"), "plugins.x.routes.api?:");
  }

  @Test
  void aRoutesSettingsThatAreNotAMappingAreRejected() {
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      docs: 5\n"), "plugins.x.routes.docs:", "mapping");
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      docs: [a]\n"), "plugins.x.routes.docs:", "mapping");
  }

  @Test
  void aRoutesEnabledFlagMustBeABoolean() {
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      docs: { enabled: maybe }\n"),
        "plugins.x.routes.docs.enabled", "true or false");
  }

  @Test
  void routesDoNotNest() {
    assertRejected(() -> load("plugins:\n  x:\n    routes:\n      docs:\n        routes: { a: {} }\n"),
        "plugins.x.routes.docs.routes", "do not nest");
  }

  // ---- route prefix and public URL ----

  @Test
  void theRoutePrefixIsPeerUnlessSet() throws ConfigException {
    assertThat(load("").config().server().routePrefix()).isEqualTo("/peer/");
    assertThat(load("server:\n  route_prefix: /api/\n").config().server().routePrefix()).isEqualTo("/api/");
    assertThat(load("server:\n  route_prefix: /t/peer/\n").config().server().routePrefix()).isEqualTo("/t/peer/");
  }

  @Test
  void aRoutePrefixThatIsNotAMountPointIsRejected() {
    for (String bad : List.of("peer", "/peer", "peer/", "/", "//", "/pe er/", "/a//b/", "/a/../b/", "/./", "/peer/?/")) {
      assertRejected(() -> load("server:\n  route_prefix: \"" + bad + "\"\n"), "server.route_prefix", bad);
    }
  }

  @Test
  void thePublicUrlIsUnsetUnlessGivenAndLosesItsTrailingSlash() throws ConfigException {
    assertThat(load("").config().server().publicUrl()).isNull();
    assertThat(load("server:\n  public_url: https://gw.example.com/\n").config().server().publicUrl())
        .isEqualTo("https://gw.example.com");
    assertThat(load("server:\n  public_url: http://gw.example.com:8443/base\n").config().server().publicUrl())
        .isEqualTo("http://gw.example.com:8443/base");
  }

  @Test
  void aPublicUrlThatIsNotAnHttpBaseUrlIsRejected() {
    assertRejected(() -> load("server:\n  public_url: gw.example.com\n"), "server.public_url", "http://");
    assertRejected(() -> load("server:\n  public_url: ftp://gw.example.com\n"), "server.public_url", "http://");
    assertRejected(() -> load("server:\n  public_url: \"http:///path\"\n"), "server.public_url", "no host");
    assertRejected(() -> load("server:\n  public_url: \"https://gw.example.com/?a=1\"\n"), "server.public_url",
        "query or fragment");
    assertRejected(() -> load("server:\n  public_url: \"https://gw.example.com/#top\"\n"), "server.public_url",
        "query or fragment");
    assertRejected(() -> load("server:\n  public_url: \"https://gw example.com\"\n"), "server.public_url",
        "not a URL");
    assertThatThrownBy(() -> load("server:\n  public_url: \"https://admin:s3cret@gw.example.com\"\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("server.public_url")
        .hasMessageContaining("user name or password")
        .message().doesNotContain("s3cret");
  }

  // ---- YAML ----

  @Test
  void invalidYamlNamesTheLine() {
    assertRejected(() -> load("server:\n  listen: \":8080\"\n   bad: [\n"), "gateway.yaml", "not valid YAML", "line ");
  }

  @Test
  void invalidYamlNamesTheRightLine() {
    assertThatThrownBy(() -> load("a: 1\nb: 2\nc: \"unclosed\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageMatching("(?s).*line [34].*");
  }

  @Test
  void aTopLevelListIsRejected() {
    assertRejected(() -> load("- server\n- proxy\n"), "top level", "mapping");
  }

  @Test
  void aTopLevelScalarIsRejected() {
    assertRejected(() -> load("just text\n"), "top level");
  }

  // ---- environment ----

  @Test
  void environmentIsSubstitutedBeforeBinding() throws ConfigException {
    GatewayConfig c = load("""
        server:
          listen: "${LISTEN}"
          max_body_bytes: "${MAX_BODY}"
          admin_listen: "${ADMIN:-127.0.0.1:9191}"
        upstreams:
          api: "http://${UPSTREAM_HOST}:3000"
        """).config();

    assertThat(c.server().listen()).isEqualTo(":9999");
    assertThat(c.server().maxBodyBytes()).isEqualTo(1024L * 1024);
    assertThat(c.server().adminListen()).isEqualTo("127.0.0.1:9191");
    assertThat(c.upstreams().get("api").url()).isEqualTo("http://10.1.2.3:3000");
  }

  @Test
  void substitutedValuesAreValidated() {
    ConfigLoader badEnv = new ConfigLoader(Map.of("PROVIDER", "netty")::get, DEFAULT_PLUGINS);
    assertThatThrownBy(() -> badEnv.fromText("server:\n  http_provider: ${PROVIDER}\n", null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("server.http_provider")
        .hasMessageContaining("netty");
  }

  @Test
  void anUnsetVariableNamesTheKeyPath() {
    assertRejected(() -> load("server:\n  listen: \"${NOT_SET_ANYWHERE}\"\n"), "server.listen", "NOT_SET_ANYWHERE");
  }

  @Test
  void aBooleanCanComeFromTheEnvironment() throws ConfigException {
    GatewayConfig c = load("server:\n  access_log: ${ACCESS_LOG}\nplugins:\n  x:\n    enabled: ${ACCESS_LOG}\n")
        .config();

    assertThat(c.server().accessLog()).isFalse();
  }

  // ---- fingerprint ----

  @Test
  void theFingerprintFollowsTheText() throws ConfigException {
    String a = load("server:\n  listen: \":8080\"\n").fingerprint();
    String same = load("server:\n  listen: \":8080\"\n").fingerprint();
    String changed = load("server:\n  listen: \":8081\"\n").fingerprint();
    String commentOnly = load("server:\n  listen: \":8080\"\n# note\n").fingerprint();

    assertThat(a).isEqualTo(same).hasSize(64).matches("[0-9a-f]+");
    assertThat(changed).isNotEqualTo(a);
    assertThat(commentOnly).isNotEqualTo(a);
  }

  @Test
  void errorsNameTheFile() throws IOException {
    Path file = dir.resolve("my-gateway.yaml");
    Files.writeString(file, "server:\n  http_provider: netty\n");

    assertRejected(() -> loader.load(file), file.toString(), "server.http_provider");
  }

  @Test
  void listsOfOneMayBeWrittenAsAScalar() throws ConfigException {
    assertThat(load("server:\n  trusted_proxies: 10.0.0.0/8\n").config().server().trustedProxies())
        .isEqualTo(List.of("10.0.0.0/8"));
  }
}
