package dev.portalgateway.host.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.host.testing.KeepAliveUpstream;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proxy end to end in one JVM: a real backend on loopback, a real gateway on loopback, real
 * HTTP clients. Runs once per HTTP server provider, since both must serve the same behaviour.
 */
@ParameterizedClass(name = "provider={0}")
@ValueSource(strings = {"portal", "jdk", "robaho"})
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyIntegrationTest {
  @Parameter
  String provider;

  private TestBackend backend;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void startBackend() throws IOException {
    backend = new TestBackend();
    backend.route("/echo", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      String description = TestBackend.describe(ex, body.length);
      ex.getResponseHeaders().set("X-Body-Sha", Integer.toHexString(Arrays.hashCode(body)));
      TestBackend.respond(ex, 200, "text/plain", description);
    });
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    backend.close();
  }

  private TestGateway gateway(String yamlBody) throws Exception {
    TestGateway g = TestGateway.start(provider, yamlBody);
    closeables.add(0, g);
    return g;
  }

  private TestGateway gatewayToBackend(String extra) throws Exception {
    return gateway("upstreams:\n  backend: \"" + backend.url() + "\"\n" + extra);
  }

  @Test
  void forwardsToTheNamedUpstreamWithThePrefixStrippedAndTheQueryKept() throws Exception {
    TestGateway g = gatewayToBackend("");
    HttpResponse<String> r = g.get("/peer/backend/echo/a%20b?x=1&y=two");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("path=/echo/a%20b\n", "query=x=1&y=two\n", "method=GET\n");
  }

  @Test
  void addsForwardingHeadersAndARequestId() throws Exception {
    TestGateway g = gatewayToBackend("");
    HttpResponse<String> r = g.get("/peer/backend/echo", "X-Forwarded-For", "203.0.113.9");
    assertThat(r.body()).contains("h.x-forwarded-for=203.0.113.9, 127.0.0.1\n", "h.x-forwarded-proto=http\n",
        "h.x-forwarded-host=127.0.0.1:" + g.port() + "\n");
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(id).matches("[0-9a-f]{32}");
    assertThat(r.body()).contains("h.x-request-id=" + id + "\n");

    HttpResponse<String> given = g.get("/peer/backend/echo", "X-Request-Id", "trace-42");
    assertThat(given.headers().firstValue("X-Request-Id")).hasValue("trace-42");
    assertThat(given.body()).contains("h.x-request-id=trace-42\n");
  }

  @Test
  void removesHopByHopHeadersIncludingThoseNamedInConnection() throws Exception {
    TestGateway g = gatewayToBackend("");
    String response = rawExchange(g.port(), "GET /peer/backend/echo HTTP/1.1\r\nHost: x\r\n"
        + "Connection: keep-alive, X-Hop-Secret\r\nX-Hop-Secret: 1\r\nKeep-Alive: timeout=5\r\n"
        + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nX-End-To-End: kept\r\nContent-Length: 0\r\n\r\n");
    assertThat(response).startsWith("HTTP/1.1 200");
    assertThat(response).contains("h.x-end-to-end=kept").doesNotContain("x-hop-secret", "keep-alive=", "proxy-authorization");
  }

  @Test
  void streamsFixedLengthAndChunkedRequestBodiesToTheUpstream() throws Exception {
    TestGateway g = gatewayToBackend("");
    byte[] payload = new byte[3 * 1024 * 1024];
    new java.util.Random(7).nextBytes(payload);
    HttpResponse<String> fixed = g.client().send(HttpRequest.newBuilder(g.uri("/peer/backend/echo"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(fixed.body()).contains("body_length=" + payload.length + "\n", "h.content-length=" + payload.length);
    assertThat(fixed.headers().firstValue("X-Body-Sha")).hasValue(Integer.toHexString(Arrays.hashCode(payload)));

    HttpResponse<String> chunked = g.client().send(HttpRequest.newBuilder(g.uri("/peer/backend/echo"))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(payload))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(chunked.body()).contains("body_length=" + payload.length + "\n");
    assertThat(chunked.headers().firstValue("X-Body-Sha")).hasValue(Integer.toHexString(Arrays.hashCode(payload)));
  }

  @Test
  void requestBodyReachesTheUpstreamBeforeTheClientHasFinishedSending() throws Exception {
    CountDownLatch firstBytesArrived = new CountDownLatch(1);
    backend.route("/upload", ex -> {
      InputStream in = ex.getRequestBody();
      // Plain reads, not readNBytes: its final zero-length read makes the JDK server wait for
      // the next chunk header, which would hide what the gateway does.
      byte[] buf = new byte[64];
      int got = 0;
      while (got < 5) {
        int n = in.read(buf, got, buf.length - got);
        if (n < 0) {
          break;
        }
        got += n;
      }
      firstBytesArrived.countDown();
      byte[] rest = in.readAllBytes();
      TestBackend.respond(ex, 200, "text/plain", new String(buf, 0, got) + new String(rest));
    });
    TestGateway g = gatewayToBackend("");
    try (Socket s = new Socket("127.0.0.1", g.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /peer/backend/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // The client holds back the rest until the upstream has seen the start: only a streaming
      // proxy gets here; a buffering one would wait for the whole body and this would time out.
      assertThat(firstBytesArrived.await(15, TimeUnit.SECONDS)).isTrue();
      out.write("6\r\n world\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readResponse(s.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 200").endsWith("hello world");
    }
  }

  @Test
  void serverSentEventsArriveOneByOneWhileTheUpstreamIsStillSending() throws Exception {
    CountDownLatch clientSawFirst = new CountDownLatch(1);
    AtomicReference<Boolean> upstreamStillSending = new AtomicReference<>();
    backend.route("/events", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      out.write("id: 1\ndata: first\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        // The second event is only written once the client has the first.
        upstreamStillSending.set(clientSawFirst.await(15, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.write("id: 2\ndata: second\n\n".getBytes(StandardCharsets.UTF_8));
      out.close();
    });
    TestGateway g = gatewayToBackend("");
    HttpResponse<InputStream> r = g.client().send(HttpRequest.newBuilder(g.uri("/peer/backend/events")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      assertThat(reader.readLine()).isEqualTo("id: 1");
      assertThat(reader.readLine()).isEqualTo("data: first");
      assertThat(reader.readLine()).isEmpty();
      clientSawFirst.countDown();
      assertThat(reader.readLine()).isEqualTo("id: 2");
      assertThat(reader.readLine()).isEqualTo("data: second");
    }
    assertThat(upstreamStillSending.get()).isTrue();
  }

  @Test
  void idleEventStreamsGetKeepAliveCommentsBetweenEvents() throws Exception {
    CountDownLatch clientSawComment = new CountDownLatch(1);
    backend.route("/quiet", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      out.write("data: one\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        clientSawComment.await(15, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.write("data: two\n\n".getBytes(StandardCharsets.UTF_8));
      out.close();
    });
    TestGateway g = gatewayToBackend("proxy:\n  sse_keepalive: 100ms\n");
    HttpResponse<InputStream> r = g.client().send(HttpRequest.newBuilder(g.uri("/peer/backend/quiet")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    List<String> lines = new ArrayList<>();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      for (String line; (line = reader.readLine()) != null; ) {
        lines.add(line);
        if (line.startsWith(":")) {
          clientSawComment.countDown();
        }
      }
    }
    assertThat(lines.get(0)).isEqualTo("data: one");
    assertThat(lines).contains(":");
    assertThat(lines.subList(lines.indexOf(":"), lines.size())).contains("data: two");
    // Comments only ever stand between events: every data line is followed by its blank line.
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("data:")) {
        assertThat(lines.get(i + 1)).isEmpty();
      }
    }
  }

  @Test
  void bodiesOverTheLimitGet413WhetherDeclaredOrChunked() throws Exception {
    TestGateway small = gatewayWithServerExtra("  max_body_bytes: 1KiB\n");
    HttpResponse<String> declared = small.client().send(HttpRequest.newBuilder(small.uri("/peer/backend/echo"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[2048])).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(declared.statusCode()).isEqualTo(413);
    assertThat(declared.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(declared.body()).contains("urn:portal-gateway:problem:body-too-large");

    String chunked = rawExchange(small.port(), "POST /peer/backend/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "800\r\n" + "a".repeat(0x800) + "\r\n0\r\n\r\n");
    assertThat(chunked).startsWith("HTTP/1.1 413");
  }

  private TestGateway gatewayWithServerExtra(String serverExtra) throws Exception {
    // TestGateway writes the server section; extra server keys go right after it.
    TestGateway g = TestGateway.start(provider, serverExtra + "upstreams:\n  backend: \"" + backend.url() + "\"\n");
    closeables.add(0, g);
    return g;
  }

  @Test
  void servesHttpsWithTheConfiguredKeystoreAndTellsTheUpstream(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path keystore = dir.resolve("gateway.p12");
    String keytool = java.nio.file.Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool").toString();
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "gateway", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
        "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "test-pass", "-keypass", "test-pass")
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();

    TestGateway g = gatewayWithServerExtra("  tls: { keystore: \"" + keystore + "\", keystore_password: \"test-pass\" }\n");
    java.security.KeyStore trust = java.security.KeyStore.getInstance(keystore.toFile(), "test-pass".toCharArray());
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    try (java.net.http.HttpClient https = java.net.http.HttpClient.newBuilder().sslContext(ssl)
        .version(java.net.http.HttpClient.Version.HTTP_1_1).build()) {
      HttpResponse<String> r = https.send(HttpRequest.newBuilder(
          java.net.URI.create("https://127.0.0.1:" + g.port() + "/peer/backend/echo")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("h.x-forwarded-proto=https\n");
    }
  }

  @Test
  void redirectsAndCookiePathsOfTheUpstreamAreMappedIntoThePeerPath() throws Exception {
    backend.route("/app/login", ex -> {
      ex.getResponseHeaders().add("Location", "/app/welcome?x=1");
      ex.getResponseHeaders().add("Set-Cookie", "sid=abc; Path=/app; HttpOnly");
      ex.getResponseHeaders().add("Set-Cookie", "other=1; Path=/elsewhere");
      ex.sendResponseHeaders(302, -1);
    });
    backend.route("/app/absolute", ex -> {
      ex.getResponseHeaders().add("Location", backend.url() + "/app/next");
      ex.sendResponseHeaders(303, -1);
    });
    backend.route("/app/external", ex -> {
      ex.getResponseHeaders().add("Location", "https://login.example/authorize");
      ex.sendResponseHeaders(302, -1);
    });
    TestGateway g = gateway("upstreams:\n  app: \"" + backend.url() + "/app\"\n");
    HttpResponse<String> login = g.get("/peer/app/login");
    assertThat(login.statusCode()).isEqualTo(302);
    assertThat(login.headers().firstValue("Location")).hasValue("/peer/app/welcome?x=1");
    assertThat(login.headers().allValues("Set-Cookie"))
        .contains("sid=abc; Path=/peer/app/; HttpOnly", "other=1; Path=/elsewhere");
    assertThat(g.get("/peer/app/absolute").headers().firstValue("Location")).hasValue("/peer/app/next");
    assertThat(g.get("/peer/app/external").headers().firstValue("Location")).hasValue("https://login.example/authorize");
  }

  @Test
  void ipv6UpstreamsGetAWellFormedHostHeader() throws Exception {
    ServerSocket v6;
    try {
      v6 = new ServerSocket(0, 10, java.net.InetAddress.getByName("::1"));
    } catch (IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here: " + e.getMessage());
      return;
    }
    try (v6) {
      AtomicReference<String> head = new AtomicReference<>();
      Thread.ofVirtual().start(() -> {
        try (Socket s = v6.accept()) {
          head.set(readHead(s.getInputStream()));
          s.getOutputStream().write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        } catch (IOException ignored) {
          // the assertion below reports it
        }
      });
      TestGateway g = gateway("upstreams:\n  v6: \"http://[::1]:" + v6.getLocalPort() + "\"\n");
      assertThat(g.get("/peer/v6/x").statusCode()).isEqualTo(204);
      assertThat(head.get()).contains("\r\nHost: [::1]:" + v6.getLocalPort() + "\r\n");
    }
  }

  @Test
  void dotSegmentsAreRefusedSoAnUpstreamsBasePathIsABoundary() throws Exception {
    TestGateway g = gateway("upstreams:\n  app: \"" + backend.url() + "/app\"\n");
    for (String path : List.of("/peer/app/../echo", "/peer/app/a/%2e%2E/b", "/peer/app/./x", "/peer/app/x/..",
        "/peer/app/..%2Fadmin", "/peer/app/x%2f..%2F..%2fy", "/peer/app/..;/actuator", "/peer/app/%2e%2e;x/y",
        "/peer/app/..%3bx/y")) {
      String response = rawExchange(g.port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(response).as(path).startsWith("HTTP/1.1 400").contains("bad-path");
    }
    assertThat(g.get("/peer/app/..x/.y").statusCode()).isEqualTo(404); // ordinary names: forwarded
  }

  @Test
  void theGatewaysCorsPolicyIsTheOnlyOneEvenWhenTheUpstreamReflectsEveryOrigin() throws Exception {
    backend.route("/open", ex -> {
      ex.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
      ex.getResponseHeaders().set("Access-Control-Allow-Credentials", "true");
      TestBackend.respond(ex, 200, "text/plain", "ok");
    });
    TestGateway g = gatewayToBackend("cors:\n  allowed_origins: [\"https://app.example\"]\n");
    HttpResponse<String> stranger = g.get("/peer/backend/open", "Origin", "https://evil.example");
    assertThat(stranger.statusCode()).isEqualTo(200);
    assertThat(stranger.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    assertThat(stranger.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
  }

  @Test
  void anUpstreamWithConflictingContentLengthsGets502InsteadOfDesyncingTheConnection() throws Exception {
    try (ServerSocket lying = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual().start(() -> {
        try (Socket s = lying.accept()) {
          readHead(s.getInputStream());
          s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello")
              .getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          sleep(500);
        } catch (IOException ignored) {
          // the assertion reports it
        }
      });
      TestGateway g = gateway("upstreams:\n  lying: \"http://127.0.0.1:" + lying.getLocalPort() + "\"\n");
      HttpResponse<String> r = g.get("/peer/lying/x");
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(r.body()).contains("upstream-protocol-error");
    }
  }

  @Test
  void anIdleKeepAliveConnectionIsReusedThenClosedAfterIdleTimeoutWithoutAnotherRequest() throws Exception {
    try (KeepAliveUpstream upstream = new KeepAliveUpstream()) {
      TestGateway g = gateway("upstreams:\n  kept: { url: \"http://127.0.0.1:" + upstream.port()
          + "\", idle_timeout: 2s }\n");
      assertThat(g.get("/peer/kept/x").body()).isEqualTo("ok");
      assertThat(g.get("/peer/kept/y").body()).isEqualTo("ok");
      assertThat(upstream.connections()).as("the second request reused the idle connection").isEqualTo(1);
      // No request follows, so no release notices the expiry: the gateway's periodic sweep must.
      assertThat(upstream.awaitClosed(0, 15)).as("the idle connection was closed").isTrue();
    }
  }

  @Test
  void aClientThatLeavesAQuietEventStreamIsNoticedByTheKeepAliveAndTheUpstreamIsReleased() throws Exception {
    try (ServerSocket quiet = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
      CountDownLatch upstreamClosed = new CountDownLatch(1);
      Thread.ofVirtual().start(() -> {
        try (Socket s = quiet.accept()) {
          readHead(s.getInputStream());
          s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "d\r\ndata: hello\n\n\r\n").getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          s.setSoTimeout(20_000);
          if (s.getInputStream().read() < 0) { // then silence: only the gateway closing ends this
            upstreamClosed.countDown();
          }
        } catch (IOException e) {
          upstreamClosed.countDown(); // reset by the gateway: released as well
        }
      });
      TestGateway g = gateway("proxy:\n  sse_keepalive: 100ms\nupstreams:\n  quiet: \"http://127.0.0.1:" + quiet.getLocalPort() + "\"\n");
      try (Socket client = new Socket("127.0.0.1", g.port())) {
        client.getOutputStream().write("GET /peer/quiet/events HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        assertThat(client.getInputStream().read(new byte[64])).isPositive();
      }
      assertThat(upstreamClosed.await(15, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void oversizedHeadersGet431() throws Exception {
    TestGateway g = gatewayWithServerExtra("  max_header_bytes: 2KiB\n");
    HttpResponse<String> r = g.get("/peer/backend/echo", "X-Big", "b".repeat(4096));
    assertThat(r.statusCode()).isEqualTo(431);
    assertThat(r.body()).contains("headers-too-large");
    assertThat(g.get("/peer/backend/echo", "X-Small", "s").statusCode()).isEqualTo(200);
  }

  @Test
  void anUpstreamThatRefusesConnectionsGets502() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    TestGateway g = gateway("upstreams:\n  down: \"http://127.0.0.1:" + closedPort + "\"\n");
    HttpResponse<String> r = g.get("/peer/down/x");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("urn:portal-gateway:problem:upstream-unreachable", "\"hint\"");
  }

  @Test
  void anUpstreamThatDoesNotAnswerInTimeGets504() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.route("/slow", ex -> {
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      TestBackend.respond(ex, 200, "text/plain", "late");
    });
    TestGateway g = gateway("upstreams:\n  backend: { url: \"" + backend.url() + "\", response_timeout: 300ms }\n");
    try {
      HttpResponse<String> r = g.get("/peer/backend/slow");
      assertThat(r.statusCode()).isEqualTo(504);
      assertThat(r.body()).contains("upstream-timeout");
    } finally {
      release.countDown();
    }
  }

  @Test
  void aTimeoutLimitsOnlyTheWaitForTheHeadNotAStreamThatKeepsGoing() throws Exception {
    backend.route("/long", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      for (int i = 0; i < 8; i++) {
        out.write(("data: " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        sleep(100);
      }
      out.close();
    });
    TestGateway g = gateway("upstreams:\n  backend: { url: \"" + backend.url() + "\", response_timeout: 300ms }\n");
    HttpResponse<String> r = g.get("/peer/backend/long");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("data: 0", "data: 7");
  }

  @Test
  void unknownNamesAndPathsOutsidePeerGet404Problems() throws Exception {
    TestGateway g = gatewayToBackend("");
    HttpResponse<String> unknown = g.get("/peer/nobody/x");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(unknown.body()).contains("unknown-route", "nobody");
    assertThat(g.get("/other").statusCode()).isEqualTo(404);
    assertThat(g.get("/peer/").statusCode()).isEqualTo(404);
  }

  @Test
  void corsPreflightsAreAnsweredForBrowserMcpClientsAndResponsesExposeTheSessionId() throws Exception {
    backend.route("/mcp", ex -> {
      ex.getResponseHeaders().set("Mcp-Session-Id", "s-1");
      TestBackend.respond(ex, 200, "application/json", "{}");
    });
    TestGateway g = gatewayToBackend("cors:\n  allowed_origins: [\"https://app.example\"]\n");
    HttpResponse<String> preflight = g.client().send(HttpRequest.newBuilder(g.uri("/peer/backend/mcp"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, mcp-protocol-version, content-type")
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow())
        .contains("Authorization", "Mcp-Protocol-Version", "Content-Type");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("POST");

    HttpResponse<String> actual = g.get("/peer/backend/mcp", "Origin", "https://app.example");
    assertThat(actual.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
    assertThat(actual.headers().firstValue("Access-Control-Expose-Headers").orElseThrow()).contains("Mcp-Session-Id");
    assertThat(actual.headers().firstValue("Mcp-Session-Id")).hasValue("s-1");

    HttpResponse<String> stranger = g.client().send(HttpRequest.newBuilder(g.uri("/peer/backend/mcp"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", "https://evil.example").header("Access-Control-Request-Method", "POST").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(stranger.statusCode()).isEqualTo(403);
    assertThat(stranger.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void anUpstreamThatDiesMidBodyTruncatesTheClientsResponseInsteadOfCompletingIt() throws Exception {
    try (ServerSocket dying = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual().start(() -> {
        try (Socket s = dying.accept()) {
          readHead(s.getInputStream());
          s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "5\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          sleep(200);
        } catch (IOException ignored) {
          // the test fails on its own side if this side broke
        }
      });
      TestGateway g = gateway("upstreams:\n  dying: \"http://127.0.0.1:" + dying.getLocalPort() + "\"\n");
      HttpResponse<InputStream> r = g.client().send(HttpRequest.newBuilder(g.uri("/peer/dying/x")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThatThrownBy(() -> r.body().readAllBytes()).isInstanceOf(IOException.class);
    }
  }

  @Test
  void aClientThatHangsUpReleasesTheUpstreamStream() throws Exception {
    CountDownLatch upstreamWriteFailed = new CountDownLatch(1);
    backend.route("/forever", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      try {
        for (int i = 0; i < 2000; i++) {
          out.write(("data: " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          sleep(10);
        }
      } catch (IOException e) {
        upstreamWriteFailed.countDown();
      }
    });
    TestGateway g = gatewayToBackend("");
    try (Socket s = new Socket("127.0.0.1", g.port())) {
      s.getOutputStream().write("GET /peer/backend/forever HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      byte[] some = new byte[64];
      assertThat(s.getInputStream().read(some)).isPositive();
    }
    assertThat(upstreamWriteFailed.await(15, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void metricsCountRequestsAndTheGatewaysOwnOverhead() throws Exception {
    TestGateway g = gatewayToBackend("");
    assertThat(g.get("/peer/backend/echo").statusCode()).isEqualTo(200);
    assertThat(g.get("/peer/missing/echo").statusCode()).isEqualTo(404);
    // Each is recorded after the response went out, one after the other: wait for all of them.
    g.awaitMetrics(
        "portal_gateway_requests_total{route=\"backend\",method=\"GET\",status_class=\"2xx\",} 1.0",
        "portal_gateway_requests_total{route=\"unknown\",method=\"GET\",status_class=\"4xx\",} 1.0",
        "portal_gateway_overhead_seconds_count{route=\"backend\",} 1.0",
        "portal_gateway_upstream_duration_seconds_count{route=\"backend\",} 1.0",
        "portal_gateway_requests_in_flight 0.0");
  }

  @Test
  void healthAndReadinessAnswerOnTheAdminListener() throws Exception {
    TestGateway g = gatewayToBackend("");
    HttpResponse<String> health = g.client().send(HttpRequest.newBuilder(g.adminUri("/healthz")).build(),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> ready = g.client().send(HttpRequest.newBuilder(g.adminUri("/readyz")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(ready.statusCode()).isEqualTo(200);
  }

  @Test
  void drainingLetsInFlightRequestsFinishAndRefusesNewOnes() throws Exception {
    CountDownLatch requestArrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    backend.route("/held", ex -> {
      requestArrived.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      TestBackend.respond(ex, 200, "text/plain", "finished");
    });
    TestGateway g = gatewayToBackend("");
    var inFlight = g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/backend/held")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(requestArrived.await(15, TimeUnit.SECONDS)).isTrue();
    Thread drainer = Thread.ofVirtual().start(() -> g.gateway().drainAndStop(Duration.ofSeconds(20)));
    while (g.gateway().isReady()) {
      sleep(5);
    }
    HttpResponse<String> readyz = g.client().send(HttpRequest.newBuilder(g.adminUri("/readyz")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(readyz.statusCode()).isEqualTo(503);
    String refused = rawExchange(g.port(), "GET /peer/backend/echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(refused).startsWith("HTTP/1.1 503");
    assertThat(refused.toLowerCase(java.util.Locale.ROOT)).contains("connection: close", "retry-after: 1");
    release.countDown();
    assertThat(inFlight.get(15, TimeUnit.SECONDS).body()).isEqualTo("finished");
    drainer.join(Duration.ofSeconds(15));
    assertThat(drainer.isAlive()).isFalse();
  }

  // --- raw HTTP helpers: for what the JDK client will not send or hides ---

  private static String rawExchange(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return readResponse(s.getInputStream());
    }
  }

  /** Reads one response: its head, then a Content-Length or chunked body. */
  private static String readResponse(InputStream in) throws IOException {
    String head = readHead(in);
    StringBuilder body = new StringBuilder();
    String lower = head.toLowerCase(java.util.Locale.ROOT);
    int cl = lower.indexOf("content-length:");
    if (cl >= 0) {
      int end = lower.indexOf("\r\n", cl);
      int n = Integer.parseInt(head.substring(cl + 15, end).trim());
      body.append(new String(in.readNBytes(n), StandardCharsets.ISO_8859_1));
    } else if (lower.contains("transfer-encoding: chunked")) {
      while (true) {
        String sizeLine = readLine(in);
        int size = Integer.parseInt(sizeLine.trim(), 16);
        if (size == 0) {
          readLine(in);
          break;
        }
        body.append(new String(in.readNBytes(size), StandardCharsets.ISO_8859_1));
        readLine(in);
      }
    }
    return head + body;
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      sb.append((char) b);
    }
    return sb.toString();
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
      sb.append((char) b);
    }
    return sb.toString();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
