package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The "done when", as a user does it: the example plugin's jar dropped into a plugins
 * directory and enabled by name, the built jar started with {@code java -jar}, a real backend
 * behind it, curl-like requests in front, SIGTERM at the end.
 */
@ParameterizedClass(name = "provider={0}")
@ValueSource(strings = {"portal", "robaho", "jdk"})
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BuiltJarServesTest {
  @Parameter
  String provider;

  @TempDir
  Path dir;

  private HttpServer backend;
  private final CountDownLatch clientHasFirstEvent = new CountDownLatch(1);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void startBackend() throws Exception {
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext("/hello", ex -> {
      byte[] body = ("hello from the backend, auth seen: " + (ex.getRequestHeaders().getFirst("Authorization") != null))
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    backend.createContext("/events", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      out.write("event: token\ndata: first\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        clientHasFirstEvent.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.write("event: token\ndata: second\n\n".getBytes(StandardCharsets.UTF_8));
      ex.close();
    });
    backend.start();
  }

  @AfterEach
  void stop() {
    backend.stop(0);
    client.shutdownNow();
  }

  @Test
  void proxiesStreamsAddsThePluginHeaderCountsInMetricsAndStopsCleanly() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("my-plugins"));
    Files.copy(GatewayProcess.DIST.resolve("plugins/plugin-example.jar"), plugins.resolve("plugin-example.jar"));
    Path config = dir.resolve("c.yaml");
    Files.writeString(config, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          http_provider: %s
          plugins_dir: "my-plugins"
        relay:
          enabled: false
        upstreams:
          backend: "http://127.0.0.1:%d"
        plugins:
          example-header: { header: "X-Example", value: "hello" }
        """.formatted(provider, backend.getAddress().getPort()));

    try (GatewayProcess gateway = GatewayProcess.serve(dir, config)) {
      String base = "http://127.0.0.1:" + gateway.port;
      String secretKey = "sk_live_e2eSecretValue0123456789";
      HttpResponse<String> hello = client.send(HttpRequest.newBuilder(URI.create(base + "/peer/backend/hello?api_key=qSecretInQuery"))
          .header("Authorization", "Bearer " + secretKey).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("hello from the backend, auth seen: true");
      assertThat(hello.headers().firstValue("X-Example")).hasValue("hello");

      HttpResponse<InputStream> events = client.send(HttpRequest.newBuilder(URI.create(base + "/peer/backend/events")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(events.headers().firstValue("X-Example")).hasValue("hello");
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
        assertThat(reader.readLine()).isEqualTo("event: token");
        assertThat(reader.readLine()).isEqualTo("data: first");
        // The backend holds the second event until we have the first: it arrived while the
        // upstream was still sending.
        clientHasFirstEvent.countDown();
        assertThat(reader.readLine()).isEmpty();
        assertThat(reader.readLine()).isEqualTo("event: token");
        assertThat(reader.readLine()).isEqualTo("data: second");
      }

      String metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("portal_gateway_requests_total{route=\"backend\",method=\"GET\",status_class=\"2xx\",} 2.0");
      assertThat(metrics).contains("portal_gateway_overhead_seconds_count{route=\"backend\",} 2.0");
      assertThat(metrics).contains("portal_gateway_example_header_headers_added_total 2.0");
      assertThat(metrics).contains("jvm_threads_current");

      assertThat(gateway.terminate()).isZero();
      String log = gateway.stdout();
      assertThat(log).contains("\"logger\":\"access\"", "\"route\":\"backend\"", "api_key=REDACTED");
      assertThat(log).doesNotContain(secretKey).doesNotContain("qSecretInQuery");
      for (String line : log.split("\n")) {
        assertThat(line).startsWith("{").endsWith("}");
      }
    }
  }
}
