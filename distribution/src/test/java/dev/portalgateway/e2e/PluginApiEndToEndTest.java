package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.plugin.TestPluginJars;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin API additions, through the built jar as a user runs it: a test plugin jar (built here
 * against gateway-api alone, dropped into {@code plugins/} beside the shipped ones) that observes
 * completions and keeps lasting state, a second authenticator beside auth-apikey, per-route
 * configuration, a public endpoint, a configuration reload, and a plugin built against a newer API.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PluginApiEndToEndTest {
  private static final Pattern EXPORT = Pattern.compile("(?m)^export GATEWAY_KEY=(sk_live_\\S+)$");
  private static final Path PROBE_SOURCES = Path.of("src/test/resources/probe-plugin");

  @TempDir
  Path dir;

  private HttpServer backend;
  private ServerSocket brokenUpstream;
  private Thread brokenUpstreamThread;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void startBackends() throws Exception {
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext("/hello", ex -> {
      String by = ex.getRequestHeaders().getFirst("X-Authenticated-By");
      byte[] body = ("hello; authenticated by " + (by == null ? "no header" : by) + "; authorization "
          + (ex.getRequestHeaders().containsKey("Authorization") ? "forwarded" : "removed")).getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    backend.createContext("/slow", ex -> {
      // Streams until the gateway stops taking bytes (its client is gone), at most 30 s.
      ex.getResponseHeaders().set("Content-Type", "text/plain");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      try {
        while (System.nanoTime() < deadline) {
          out.write("tick\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          Thread.sleep(20);
        }
      } catch (IOException | InterruptedException gone) {
        // The gateway hung up: the test's client left.
      }
      ex.close();
    });
    backend.start();
    // An upstream that promises 100 bytes, sends 7 and hangs up: a response cut short mid-body.
    brokenUpstream = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    brokenUpstreamThread = Thread.ofVirtual().start(() -> {
      while (!brokenUpstream.isClosed()) {
        try (Socket s = brokenUpstream.accept()) {
          readHead(s.getInputStream());
          s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  @AfterEach
  void stop() throws Exception {
    backend.stop(0);
    brokenUpstream.close();
    brokenUpstreamThread.join(5000);
    client.shutdownNow();
  }

  private Path pluginsDirWithProbe() throws IOException {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    for (String jar : List.of("auth-apikey.jar", "plugin-example.jar")) {
      Files.copy(GatewayProcess.DIST.resolve("plugins").resolve(jar), plugins.resolve(jar));
    }
    Map<String, String> sources = new LinkedHashMap<>();
    for (String name : List.of("ProbePlugin", "ProbeAuthPlugin")) {
      sources.put("probe." + name, Files.readString(PROBE_SOURCES.resolve("probe/" + name + ".java")));
    }
    TestPluginJars.build(plugins, "probe.jar", sources, "probe.ProbePlugin\nprobe.ProbeAuthPlugin\n");
    return plugins;
  }

  private String config(String exampleValueForOthers) throws IOException {
    int down;
    try (ServerSocket closed = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      down = closed.getLocalPort(); // nothing listens there once closed
    }
    String upstream = "http://127.0.0.1:" + backend.getAddress().getPort();
    return """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          plugins_dir: "plugins"
          public_url: "https://gw.example.test/"
          config_reload_interval: 100ms
        relay:
          enabled: false
        upstreams:
          backend: "%s"
          other: "%s"
          plain: "%s"
          broken: "http://127.0.0.1:%d"
          down: "http://127.0.0.1:%d"
        plugins:
          auth-apikey:
            enabled: false
            keys_file: "keys.yaml"
            routes:
              backend: { enabled: true }
          probe-auth:
            enabled: false
            routes:
              "back*": {}
          probe:
            greeting-text: "hi"
          example-header:
            header: "X-Example"
            value: "one"
            routes:
              "oth*": { value: "%s" }
              plain: { enabled: false }
        """.formatted(upstream, upstream, upstream, brokenUpstream.getLocalPort(), down, exampleValueForOthers);
  }

  @Test
  void completionsAuthenticatorsRoutesPublicEndpointsAndLastingStateWorkThroughTheBuiltJar() throws Exception {
    pluginsDirWithProbe();
    Path configFile = dir.resolve("gateway.yaml");
    Files.writeString(configFile, config("two"));
    GatewayProcess.Result made = GatewayProcess.run(dir, "add-key", "--name", "tester", "--generate", "--config",
        configFile.toString());
    assertThat(made.exitCode()).as(made.stderr()).isZero();
    Matcher m = EXPORT.matcher(made.stdout());
    assertThat(m.find()).as(made.stdout()).isTrue();
    String key = m.group(1);

    try (GatewayProcess gateway = GatewayProcess.serve(dir, configFile)) {
      String base = "http://127.0.0.1:" + gateway.port;

      // Two authenticators on one route: each credential reaches the plugin that reads it.
      HttpResponse<String> byKey = get(base + "/peer/backend/hello", "Authorization", "Bearer " + key);
      assertThat(byKey.statusCode()).isEqualTo(200);
      assertThat(byKey.body()).isEqualTo("hello; authenticated by no header; authorization removed");
      HttpResponse<String> byProbe = get(base + "/peer/backend/hello", "Authorization", "Probe letmein");
      assertThat(byProbe.statusCode()).isEqualTo(200);
      assertThat(byProbe.body()).isEqualTo("hello; authenticated by probe; authorization removed");

      // Neither credential: one 401 carrying both challenges. A JWT is not a malformed API key.
      for (String[] headers : List.of(new String[0],
          new String[] {"Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"})) {
        HttpResponse<String> none = get(base + "/peer/backend/hello", headers);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().allValues("WWW-Authenticate"))
            .containsExactly("Bearer realm=\"portal-gateway\"", "Probe realm=\"probe\"");
      }
      // A probe credential that is wrong is the probe's to refuse, alone.
      HttpResponse<String> badProbe = get(base + "/peer/backend/hello", "Authorization", "Probe wrong");
      assertThat(badProbe.statusCode()).isEqualTo(401);
      assertThat(badProbe.headers().allValues("WWW-Authenticate")).containsExactly("Probe realm=\"probe\"");

      // Per-route configuration: auth on backend only; the header's value by pattern; off on plain.
      HttpResponse<String> other = get(base + "/peer/other/hello");
      assertThat(other.statusCode()).isEqualTo(200);
      assertThat(other.headers().firstValue("X-Example")).hasValue("two");
      assertThat(byKey.headers().firstValue("X-Example")).hasValue("one");
      HttpResponse<String> plain = get(base + "/peer/plain/hello");
      assertThat(plain.statusCode()).isEqualTo(200);
      assertThat(plain.headers().firstValue("X-Example")).isEmpty();

      // A public endpoint outside /peer/, with the configured public URL; the API's annotation binds.
      HttpResponse<String> wellKnown = get(base + "/.well-known/probe/peer/backend/mcp");
      assertThat(wellKnown.statusCode()).isEqualTo(200);
      assertThat(wellKnown.body()).isEqualTo("greeting=hi url=https://gw.example.test/.well-known/probe/peer/backend/mcp"
          + " below=/peer/backend/mcp prefix=/peer/\n");
      assertThat(get(base + "/.well-known/probes").statusCode()).isEqualTo(404);

      // Upstream failures and a client that leaves.
      assertThat(get(base + "/peer/down/x").statusCode()).isEqualTo(502);
      assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(URI.create(base + "/peer/broken/x")).build(),
          HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
      leaveMidStream(gateway.port, "/peer/other/slow");

      String expected = """
          tally 1
          backend ok 200 2
          backend rejected 401 3
          broken aborted 200 1
          down upstream-failed 502 1
          other client-gone 200 1
          other ok 200 1
          plain ok 200 1
          """;
      String admin = "http://127.0.0.1:" + gateway.adminPort + "/plugins/probe/tally";
      assertThat(awaitBody(admin, expected::equals)).isEqualTo(expected);

      // A reload makes new filters; the lasting tally (made once) and its counts stay.
      Files.writeString(configFile, config("three"));
      awaitBody(base + "/peer/other/hello", "hello; authenticated by no header; authorization removed"::equals,
          "X-Example", "three");
      // The new generation's filter counts into the same tally: the reload's own request to other.
      String afterReload = awaitBody(admin, body -> Pattern.compile("(?m)^other ok 200 ([2-9]|\\d{2,})$").matcher(body).find());
      assertThat(afterReload).startsWith("tally 1\n")
          .contains("backend ok 200 2\n", "backend rejected 401 3\n", "other client-gone 200 1\n");
      assertThat(gateway.terminate()).isZero();
      String log = gateway.stdout();
      assertThat(log).contains("\"outcome\":\"client-gone\"", "\"outcome\":\"aborted\"", "\"outcome\":\"upstream-failed\"",
          "\"outcome\":\"rejected\"");
      assertThat(log).doesNotContain(key);
    }
  }

  @Test
  void aPluginBuiltAgainstANewerApiIsRefusedAtLoadNamingTheJarTheVersionsAndTheFix() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    TestPluginJars.build(plugins, "future.jar", Map.of("probe.FuturePlugin",
        Files.readString(PROBE_SOURCES.resolve("probe/FuturePlugin.java"))), "probe.FuturePlugin\n");
    Path configFile = dir.resolve("gateway.yaml");
    Files.writeString(configFile, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          plugins_dir: "plugins"
        relay:
          enabled: false
        plugins:
          future: {}
        """);
    GatewayProcess.Result r = GatewayProcess.run(dir, "--config", configFile.toString());
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stdout() + r.stderr()).contains("plugin 'future' (future.jar in", "built against gateway-api 0.99",
        "this gateway serves gateway-api 0.2", "upgrade the gateway");
  }

  /** Asks for a stream, reads its first bytes, and hangs up with a reset. */
  private static void leaveMidStream(int port, String path) throws IOException {
    try (Socket s = new Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      String seen = "";
      while (!seen.contains("tick")) {
        byte[] buf = new byte[512];
        int n = in.read(buf);
        if (n < 0) {
          throw new IOException("the gateway ended the stream: " + seen);
        }
        seen += new String(buf, 0, n, StandardCharsets.US_ASCII);
      }
      s.setSoLinger(true, 0);
    }
  }

  private static void readHead(InputStream in) throws IOException {
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the request ended before its head did");
      }
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
  }

  private HttpResponse<String> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Polls until the body satisfies {@code done} (and, when given, a header has a value), for at
   * most 30 s: the gateway counts an exchange after its last byte, and reloads on its own timer.
   */
  private String awaitBody(String url, Predicate<String> done, String... header) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = get(url);
      last = r.body();
      boolean headerOk = header.length == 0 || r.headers().firstValue(header[0]).orElse("").equals(header[1]);
      if (done.test(last) && headerOk) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no matching answer from " + url + " in 30 s; the last was:\n" + last);
  }
}
