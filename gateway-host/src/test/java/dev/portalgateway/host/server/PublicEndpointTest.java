package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.TestPluginJars;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins' public endpoints ({@code PluginContext.publicEndpoint}) and {@code server.route_prefix},
 * end to end: real plugin jars, a real gateway and backend on loopback, real HTTP requests.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublicEndpointTest {
  /** Adds a public endpoint at its "path" setting that describes the call it gets. */
  private static final String DESCRIBING_ENDPOINT = """
          String path = String.valueOf(config.asMap().getOrDefault("path", "/.well-known/demo"));
          String prefix = context.routePrefix();
          context.publicEndpoint(path, request -> Response.text(200, "text/plain",
              context.pluginName() + " base=" + request.baseUrl() + " path=" + request.path()
                  + " up=" + request.upstreamPath() + " route=" + request.route() + " method=" + request.method()
                  + " query=" + request.rawQuery() + " prefix=" + prefix
                  + " body=" + new String(request.body().readAll(1 << 20), java.nio.charset.StandardCharsets.UTF_8)));
          return (request, chain) -> chain.proceed(request);
      """;

  @TempDir static Path plugins;
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private TestBackend backend;

  @BeforeAll
  static void buildPluginJar() throws Exception {
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put("test.pub.WellKnown", TestPluginJars.pluginSource("test.pub.WellKnown", "well-known", Phase.CACHE,
        DESCRIBING_ENDPOINT, ""));
    sources.put("test.pub.OtherEndpoint", TestPluginJars.pluginSource("test.pub.OtherEndpoint", "other-endpoint",
        Phase.DELIVER, DESCRIBING_ENDPOINT, ""));
    TestPluginJars.build(plugins, "public.jar", sources, String.join("\n", sources.keySet()) + "\n");
  }

  @BeforeEach
  void start() throws Exception {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
    backend = new TestBackend();
    backend.route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "backend " + ex.getRequestURI().getRawPath()));
    backend.route("/redirect", ex -> {
      ex.getResponseHeaders().set("Location", backend.url() + "/login");
      ex.sendResponseHeaders(302, -1);
    });
  }

  @AfterEach
  void stop() {
    backend.close();
    JsonLog.redirect(System.out);
  }

  private TestGateway gateway(String serverKeys, String pluginsSection) throws Exception {
    return TestGateway.start("jdk", serverKeys + "  plugins_dir: \"" + plugins + "\"\n  data_dir: \"" + dir + "\"\n"
        + "upstreams:\n  svc: \"" + backend.url() + "\"\n" + pluginsSection);
  }

  @Test
  void anEndpointServesItsPathAndEveryPathBelowOutsideTheRoutes() throws Exception {
    try (TestGateway g = gateway("", "plugins:\n  well-known: {}\n")) {
      String base = "http://127.0.0.1:" + g.port();

      HttpResponse<String> at = g.get("/.well-known/demo?resource=x");
      assertThat(at.statusCode()).isEqualTo(200);
      assertThat(at.body()).isEqualTo("well-known base=" + base + " path=/.well-known/demo up=/ route=well-known"
          + " method=GET query=resource=x prefix=/peer/ body=");

      HttpResponse<String> below = g.client().send(HttpRequest.newBuilder(g.uri("/.well-known/demo/peer/docs/mcp"))
          .POST(HttpRequest.BodyPublishers.ofString("payload")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(below.statusCode()).isEqualTo(200);
      assertThat(below.body()).isEqualTo("well-known base=" + base + " path=/.well-known/demo/peer/docs/mcp"
          + " up=/peer/docs/mcp route=well-known method=POST query=null prefix=/peer/ body=payload");

      // Neither a sibling that shares its first letters nor the parent is the endpoint's.
      assertThat(g.get("/.well-known/demox").statusCode()).isEqualTo(404);
      assertThat(g.get("/.well-known").statusCode()).isEqualTo(404);
      assertThat(g.get("/").statusCode()).isEqualTo(404);
      // Routes are served as before.
      assertThat(g.get("/peer/svc/x").body()).isEqualTo("backend /x");
    }
  }

  @Test
  void theBaseUrlIsThePublicUrlWhenSet() throws Exception {
    try (TestGateway g = gateway("  public_url: \"https://gw.example.com/\"\n", "plugins:\n  well-known: {}\n")) {
      assertThat(g.get("/.well-known/demo").body()).startsWith("well-known base=https://gw.example.com path=");
    }
    try (TestGateway g = gateway("  public_url: \"https://gw.example.com/base\"\n", "plugins:\n  well-known: {}\n")) {
      assertThat(g.get("/.well-known/demo").body()).startsWith("well-known base=https://gw.example.com/base path=");
    }
  }

  @Test
  void withoutAPublicUrlTheBaseUrlIsTheSchemeAndTheHostTheClientSent() throws Exception {
    try (TestGateway g = gateway("", "plugins:\n  well-known: {}\n");
        java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), g.port())) {
      socket.setSoTimeout(20_000);
      socket.getOutputStream().write(("GET /.well-known/demo HTTP/1.1\r\nHost: gw.internal:8443\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

      assertThat(response).startsWith("HTTP/1.1 200").contains("well-known base=http://gw.internal:8443 path=");
    }
  }

  @Test
  void twoPluginsMayServeSiblingPaths() throws Exception {
    try (TestGateway g = gateway("", """
        plugins:
          well-known: { path: /.well-known/demo }
          other-endpoint: { path: /.well-known/demo2 }
        """)) {
      assertThat(g.get("/.well-known/demo/x").body()).startsWith("well-known ");
      assertThat(g.get("/.well-known/demo2/x").body()).startsWith("other-endpoint ");
    }
  }

  @Test
  void overlappingPathsOfTwoPluginsRefuseTheConfigurationNamingBoth() {
    for (String[] paths : new String[][] {{"/.well-known/demo", "/.well-known/demo"},
        {"/.well-known/demo", "/.well-known/demo/sub"}, {"/.well-known/demo/sub", "/.well-known/demo"}}) {
      assertThatThrownBy(() -> gateway("", "plugins:\n  well-known: { path: " + paths[0] + " }\n"
          + "  other-endpoint: { path: " + paths[1] + " }\n").close())
          .as(String.join(" and ", paths))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("well-known")
          .hasMessageContaining("other-endpoint")
          .hasMessageContaining(paths[0])
          .hasMessageContaining(paths[1])
          .hasMessageContaining("overlaps");
    }
  }

  @Test
  void aPathUnderTheRoutePrefixIsRefused() {
    for (String path : new String[] {"/peer/x", "/peer", "/peer/svc/well-known"}) {
      assertThatThrownBy(() -> gateway("", "plugins:\n  well-known: { path: " + path + " }\n").close())
          .as(path)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("well-known")
          .hasMessageContaining("'" + path + "'")
          .hasMessageContaining("server.route_prefix /peer/");
    }
    assertThatThrownBy(() -> gateway("  route_prefix: /api/\n", "plugins:\n  well-known: { path: /api/x }\n").close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("server.route_prefix /api/");
  }

  @Test
  void theRoutePrefixMovesTheRoutes() throws Exception {
    try (TestGateway g = gateway("  route_prefix: /api/\n", "plugins:\n  well-known: { path: /peer/info }\n")) {
      assertThat(g.get("/api/svc/items?x=1").statusCode()).isEqualTo(200);
      assertThat(g.get("/api/svc/items?x=1").body()).isEqualTo("backend /items");
      HttpResponse<String> old = g.get("/peer/svc/items");
      assertThat(old.statusCode()).isEqualTo(404);
      assertThat(old.body()).contains("/api/NAME");
      // An upstream's redirect to itself is rewritten into the route's new mount point.
      HttpResponse<String> redirect = g.get("/api/svc/redirect");
      assertThat(redirect.statusCode()).isEqualTo(302);
      assertThat(redirect.headers().firstValue("Location")).hasValue("/api/svc/login");
      // /peer/ is outside the routes now: a plugin may serve there, and learns the prefix.
      assertThat(g.get("/peer/info").body()).contains(" prefix=/api/ ");
    }
  }
}
