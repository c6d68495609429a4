package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.TestPluginJars;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Plugin endpoints on the admin listener, end to end: a real plugin jar, a real gateway on
 * loopback, real HTTP calls, and reloads through the configuration file.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PluginAdminEndpointTest {
  private static final String PLUGIN = "admin-demo";

  /** A plugin whose endpoints show what they were given, fail, refuse, or wait for the test. */
  private static final String CREATE = """
      Object greeting = config.asMap().getOrDefault("greeting", "hello");
      java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
      context.adminEndpoint("echo", request -> Response.text(200, "text/plain",
          greeting + " " + request.method() + " " + request.path() + " " + request.upstreamPath()
              + " query=" + request.rawQuery() + " lease=" + request.queryParameter("lease")
              + " route=" + request.route()
              + " tccl=" + (Thread.currentThread().getContextClassLoader() == getClass().getClassLoader())
              + " body=" + new String(request.body().readAll(1 << 20), java.nio.charset.StandardCharsets.UTF_8)));
      context.adminEndpoint("boom", request -> {
        throw new IllegalStateException("boom-detail");
      });
      context.adminEndpoint("refuse", request -> {
        throw new ProblemException(Problem.of(405, "method-not-allowed", "Method Not Allowed", "Use POST.", null),
            Headers.of("Allow", "POST"), null);
      });
      context.adminEndpoint("slow", request -> {
        java.nio.file.Path dir = context.dataDirectory();
        java.nio.file.Files.writeString(dir.resolve("started"), "");
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!java.nio.file.Files.exists(dir.resolve("release")) && System.nanoTime() < deadline) {
          try {
            Thread.sleep(10);
          } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
          }
        }
        return Response.text(200, "text/plain", "closed=" + closed.get());
      });
      if ("true".equals(String.valueOf(config.asMap().get("duplicate")))) {
        context.adminEndpoint("echo", request -> Response.text(200, "text/plain", "second"));
      }
      return new Filter() {
        @Override
        public Response handle(Request request, Chain chain) throws java.io.IOException {
          return chain.proceed(request);
        }

        @Override
        public void close() {
          closed.set(true);
        }
      };
      """;

  @TempDir static Path plugins;
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  @BeforeAll
  static void buildPluginJar() throws Exception {
    String cls = "test.admin.AdminDemoPlugin";
    TestPluginJars.build(plugins, "admin-demo.jar", cls,
        TestPluginJars.pluginSource(cls, PLUGIN, Phase.DELIVER, CREATE, ""));
  }

  @BeforeEach
  void captureLog() {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreLog() {
    JsonLog.redirect(System.out);
  }

  /** The server keys after {@code listen}, and the plugin section. */
  private String yamlBody(String pluginSettings) {
    return "  plugins_dir: \"" + plugins + "\"\n  data_dir: \"" + dir.resolve("data") + "\"\n"
        + "  config_reload_interval: 50ms\n"
        + "plugins:\n  " + PLUGIN + ":\n" + pluginSettings;
  }

  private TestGateway start(String provider, String pluginSettings) throws Exception {
    return TestGateway.start(provider, yamlBody(pluginSettings), dir);
  }

  private void rewrite(String provider, String pluginSettings) throws Exception {
    // Write-then-rename, as editors and config management tools do.
    String yaml = TestGateway.serverSection(provider, yamlBody(pluginSettings)) + "relay:\n  enabled: false\n";
    Path tmp = dir.resolve("gateway.yaml.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, dir.resolve("gateway.yaml"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static HttpResponse<String> admin(TestGateway g, String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(g.adminUri(path)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return g.client().send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static String adminQuietly(TestGateway g, String path) {
    try {
      HttpResponse<String> r = admin(g, "GET", path, null);
      return r.statusCode() + " " + r.body();
    } catch (Exception e) {
      return "";
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 20 s");
      }
      Thread.sleep(20);
    }
  }

  @ParameterizedTest(name = "provider={0}")
  @ValueSource(strings = {"portal", "jdk", "robaho"})
  void anEndpointAnswersOnTheAdminListenerWithTheCallAsARequest(String provider) throws Exception {
    try (TestGateway g = start(provider, "    greeting: hello\n")) {
      HttpResponse<String> r = admin(g, "POST", "/plugins/admin-demo/echo?lease=alpha%20one", "payload");

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain");
      assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
      assertThat(r.body()).isEqualTo("hello POST /plugins/admin-demo/echo /echo query=lease=alpha%20one"
          + " lease=alpha one route=admin-demo tccl=true body=payload");

      HttpResponse<String> refused = admin(g, "GET", "/plugins/admin-demo/refuse", null);
      assertThat(refused.statusCode()).isEqualTo(405);
      assertThat(refused.headers().firstValue("Allow")).hasValue("POST");
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(refused.body()).contains("\"type\":\"urn:portal-gateway:problem:method-not-allowed\"");

      // The proxy listener does not serve them: they are the admin listener's alone.
      assertThat(g.get("/plugins/admin-demo/echo").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void anUnknownEndpointOrPluginIs404ProblemListingWhatIsServed() throws Exception {
    try (TestGateway g = start("jdk", "    greeting: hello\n")) {
      for (String path : new String[] {"/plugins/admin-demo/nope", "/plugins/other/echo",
          "/plugins/admin-demo/echo/more", "/plugins/admin-demo/", "/plugins/"}) {
        HttpResponse<String> r = admin(g, "POST", path, null);
        assertThat(r.statusCode()).as(path).isEqualTo(404);
        assertThat(r.headers().firstValue("Content-Type")).as(path).hasValue("application/problem+json");
        assertThat(r.body()).as(path).contains("\"type\":\"urn:portal-gateway:problem:unknown-admin-endpoint\"",
            "/plugins/admin-demo/boom, /plugins/admin-demo/echo, /plugins/admin-demo/refuse, /plugins/admin-demo/slow");
      }
      // The listener's own endpoints are still there.
      assertThat(admin(g, "GET", "/healthz", null).body()).isEqualTo("{\"status\":\"ok\"}");
    }
  }

  @Test
  void aCallAWebPageMadeIsRefusedSinceBrowsersReachLoopbackToo() throws Exception {
    try (TestGateway g = start("jdk", "    greeting: hello\n")) {
      String[][] fromPages = {{"Origin", "https://evil.example"}, {"Origin", "null"}, {"Sec-Fetch-Site", "cross-site"},
          {"Sec-Fetch-Site", "same-origin"}};
      for (String[] header : fromPages) {
        HttpResponse<String> r = g.client().send(HttpRequest.newBuilder(g.adminUri("/plugins/admin-demo/echo"))
            .header(header[0], header[1]).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(header[0] + ": " + header[1]).isEqualTo(403);
        assertThat(r.body()).contains("\"type\":\"urn:portal-gateway:problem:admin-web-page-refused\"");
      }
      // An address typed into the browser is the operator's own doing.
      HttpResponse<String> typed = g.client().send(HttpRequest.newBuilder(g.adminUri("/plugins/admin-demo/echo"))
          .header("Sec-Fetch-Site", "none").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(typed.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aFailingEndpointIs500WithoutTheExceptionAndIsLoggedWithThePlugin() throws Exception {
    try (TestGateway g = start("jdk", "    greeting: hello\n")) {
      HttpResponse<String> r = admin(g, "POST", "/plugins/admin-demo/boom", "x");

      assertThat(r.statusCode()).isEqualTo(500);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(r.body()).contains("\"type\":\"urn:portal-gateway:problem:internal-error\"")
          .doesNotContain("boom-detail", "IllegalStateException", "at test.");
      String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();
      assertThat(r.body()).contains(requestId);
      JsonLog.flush();
      assertThat(log.toString(StandardCharsets.UTF_8)).contains("\"plugin\":\"admin-demo\"", "\"endpoint\":\"boom\"",
          "IllegalStateException: boom-detail", requestId);
    }
  }

  @Test
  void aBodyOverOneMebibyteIs413BeforeTheEndpointRuns() throws Exception {
    try (TestGateway g = start("jdk", "    greeting: hello\n")) {
      HttpResponse<String> r = admin(g, "POST", "/plugins/admin-demo/echo", "x".repeat(1024 * 1024 + 1));

      assertThat(r.statusCode()).isEqualTo(413);
      assertThat(r.body()).contains("\"type\":\"urn:portal-gateway:problem:body-too-large\"", "1048576");

      // Chunked, without a Content-Length: counted while it is read.
      byte[] tooMuch = new byte[1024 * 1024 + 1];
      HttpResponse<String> chunked = g.client().send(HttpRequest.newBuilder(g.adminUri("/plugins/admin-demo/echo"))
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(tooMuch))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(chunked.statusCode()).isEqualTo(413);
      assertThat(admin(g, "POST", "/plugins/admin-demo/echo", "x".repeat(1024 * 1024)).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void afterAReloadTheNewGenerationAnswersAndADisabledPluginIs404() throws Exception {
    try (TestGateway g = start("jdk", "    greeting: hello\n")) {
      assertThat(adminQuietly(g, "/plugins/admin-demo/echo")).startsWith("200 hello GET");

      rewrite("jdk", "    greeting: bonjour\n");
      await(() -> adminQuietly(g, "/plugins/admin-demo/echo").startsWith("200 bonjour GET"));

      rewrite("jdk", "    enabled: false\n    greeting: bonjour\n");
      await(() -> adminQuietly(g, "/plugins/admin-demo/echo").startsWith("404 "));
      assertThat(adminQuietly(g, "/plugins/admin-demo/echo")).contains("The enabled plugins add no admin endpoints.");
    }
  }

  @Test
  void aCallInFlightKeepsItsGenerationOpenAcrossAReload() throws Exception {
    Path pluginData = dir.resolve("data").resolve("plugins").resolve(PLUGIN);
    try (TestGateway g = start("jdk", "    greeting: hello\n")) {
      CompletableFuture<HttpResponse<String>> slow = g.client().sendAsync(
          HttpRequest.newBuilder(g.adminUri("/plugins/admin-demo/slow")).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      await(() -> Files.exists(pluginData.resolve("started")));

      rewrite("jdk", "    greeting: bonjour\n");
      await(() -> adminQuietly(g, "/plugins/admin-demo/echo").startsWith("200 bonjour GET"));
      JsonLog.flush();
      assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("configuration generation closed");

      Files.writeString(pluginData.resolve("release"), "");
      HttpResponse<String> r = slow.get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("closed=false");
      await(() -> {
        JsonLog.flush();
        return log.toString(StandardCharsets.UTF_8).contains("configuration generation closed");
      });
    }
  }

  @Test
  void addingOneNameTwiceInAGenerationRefusesThePluginsCreate() {
    assertThatThrownBy(() -> start("jdk", "    duplicate: true\n").close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("plugin 'admin-demo' (admin-demo.jar) failed to start")
        .hasMessageContaining("plugin 'admin-demo' adds the admin endpoint 'echo' twice; each name can be added once"
            + " per configuration generation");
  }
}
