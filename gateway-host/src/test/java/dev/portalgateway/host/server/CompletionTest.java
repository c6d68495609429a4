package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Attribute;
import dev.portalgateway.api.Completion;
import dev.portalgateway.api.Phase;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.plugin.TestPluginJars;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Completion reports ({@code Filter.completed}) from a real gateway: a plugin jar whose filters
 * record every report they get, a real backend on loopback, real HTTP requests. The gateway calls
 * {@code completed} after the client's connection is done with, so tests wait for reports by polling.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CompletionTest {
  /** 50 bytes. */
  private static final String BODY = "0123456789".repeat(5);

  @TempDir static Path plugins;
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final AtomicInteger backendCalls = new AtomicInteger();
  private TestBackend backend;
  private TestGateway gateway;

  private List<Completion> gateSaw;
  private List<Completion> observerSaw;
  private AtomicInteger observerHandled;
  private Attribute<String> gateTag;

  @BeforeAll
  static void buildPluginJar() throws Exception {
    Map<String, String> sources = new LinkedHashMap<>();
    // AUTHENTICATE: refuses requests with X-Deny; attaches an attribute and a principal to the rest.
    sources.put("test.completion.Gate", TestPluginJars.pluginSource("test.completion.Gate", "gate",
        Phase.AUTHENTICATE, """
            return new Filter() {
              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                if (request.headers().contains("X-Deny")) {
                  return Response.text(401, "text/plain", "denied").withHeader("WWW-Authenticate", "Test");
                }
                return chain.proceed(request.withAttribute(TAG, "tag-" + request.headers().first("X-Tag"))
                    .withAttribute(StandardAttributes.PRINCIPAL, new Principal("p-1", "Pat", "gate", java.util.Set.of())));
              }

              @Override
              public void completed(Completion completion) {
                seen.add(completion);
              }
            };
        """, """
          public static final Attribute<String> TAG = Attribute.of("gate.tag", String.class);
          public static final java.util.List<Completion> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        """));
    // DELIVER, last in the chain: counts what it handles, records what it is told.
    sources.put("test.completion.Observer", TestPluginJars.pluginSource("test.completion.Observer", "observer",
        Phase.DELIVER, """
            return new Filter() {
              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                handled.incrementAndGet();
                return chain.proceed(request);
              }

              @Override
              public void completed(Completion completion) {
                seen.add(completion);
              }
            };
        """, """
          public static final java.util.List<Completion> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
          public static final java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
        """));
    TestPluginJars.build(plugins, "completion.jar", sources, String.join("\n", sources.keySet()) + "\n");
  }

  @BeforeEach
  @SuppressWarnings("unchecked")
  void start() throws Exception {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
    backend = new TestBackend();
    backend.route("/", ex -> {
      backendCalls.incrementAndGet();
      ex.getRequestBody().readAllBytes();
      TestBackend.respond(ex, 200, "text/plain", BODY);
    });
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort(); // nothing listens there once it is closed
    }
    gateway = TestGateway.start("jdk", "  plugins_dir: \"" + plugins + "\"\n  data_dir: \"" + dir + "\"\n"
        + "upstreams:\n  svc: \"" + backend.url() + "\"\n  dead: \"http://127.0.0.1:" + closedPort + "\"\n"
        + "plugins:\n  gate: {}\n  observer: {}\n");
    for (ActiveFilter f : gateway.gateway().runtimes().peek().filters()) {
      Class<?> plugin = f.filter().getClass().getClassLoader().loadClass(
          f.name().equals("gate") ? "test.completion.Gate" : "test.completion.Observer");
      if (f.name().equals("gate")) {
        gateSaw = (List<Completion>) plugin.getField("seen").get(null);
        gateTag = (Attribute<String>) plugin.getField("TAG").get(null);
      } else {
        observerSaw = (List<Completion>) plugin.getField("seen").get(null);
        observerHandled = (AtomicInteger) plugin.getField("handled").get(null);
      }
    }
  }

  @AfterEach
  void stop() {
    gateway.close();
    backend.close();
    JsonLog.redirect(System.out);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 20 s for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** @return the one report each filter got, once both have it */
  private Completion awaitOneReport() throws InterruptedException {
    await(() -> gateSaw.size() >= 1 && observerSaw.size() >= 1, "a completion report to both filters");
    assertThat(gateSaw).hasSize(1);
    assertThat(observerSaw).hasSize(1);
    assertThat(observerSaw.get(0)).isSameAs(gateSaw.get(0));
    return gateSaw.get(0);
  }

  /** Waits (by the gateway's own polling drain) until no request is in flight, so every report is in. */
  private void drain() {
    gateway.gateway().drainAndStop(Duration.ofSeconds(20));
  }

  @Test
  void aRequestAFilterRefusedIsRejectedAndReportedToALaterFilterThatNeverSawIt() throws Exception {
    HttpResponse<String> r = gateway.get("/peer/svc/items", "X-Deny", "1");
    assertThat(r.statusCode()).isEqualTo(401);

    Completion c = awaitOneReport();
    assertThat(c.outcome()).isEqualTo(Completion.Outcome.REJECTED);
    assertThat(c.status()).isEqualTo(401);
    assertThat(c.route()).isEqualTo("svc");
    assertThat(c.bytesIn()).isZero();
    assertThat(c.bytesOut()).isEqualTo("denied".length());
    assertThat(c.principal()).isNull();
    assertThat(c.request().path()).isEqualTo("/peer/svc/items");
    assertThat(c.request().upstreamPath()).isEqualTo("/items");
    assertThat(observerHandled).hasValue(0);
    assertThat(backendCalls).hasValue(0);
  }

  @Test
  void aCompleteExchangeIsOkWithTheBytesEachWayAndWhatTheFiltersAttached() throws Exception {
    String requestBody = "hello, upstream"; // 15 bytes
    HttpResponse<String> r = gateway.client().send(HttpRequest.newBuilder(gateway.uri("/peer/svc/echo?x=1"))
        .header("X-Tag", "t1").POST(HttpRequest.BodyPublishers.ofString(requestBody)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(BODY);

    Completion c = awaitOneReport();
    assertThat(c.outcome()).isEqualTo(Completion.Outcome.OK);
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.route()).isEqualTo("svc");
    assertThat(c.bytesIn()).isEqualTo(requestBody.length());
    assertThat(c.bytesOut()).isEqualTo(BODY.length());
    assertThat(c.request().attribute(gateTag)).isEqualTo("tag-t1");
    assertThat(c.principal()).isNotNull();
    assertThat(c.principal().id()).isEqualTo("p-1");
    assertThat(c.request().method()).isEqualTo("POST");
    assertThat(c.request().rawQuery()).isEqualTo("x=1");
    assertThat(c.duration().isNegative()).isFalse();
    assertThat(observerHandled).hasValue(1);
  }

  @Test
  void anUpstreamThatCannotBeReachedIsUpstreamFailed() throws Exception {
    HttpResponse<String> r = gateway.get("/peer/dead/x", "X-Tag", "t2");
    assertThat(r.statusCode()).isEqualTo(502);

    Completion c = awaitOneReport();
    assertThat(c.outcome()).isEqualTo(Completion.Outcome.UPSTREAM_FAILED);
    assertThat(c.status()).isEqualTo(502);
    assertThat(c.route()).isEqualTo("dead");
    assertThat(c.bytesOut()).isEqualTo(r.body().getBytes(StandardCharsets.UTF_8).length);
    assertThat(c.request().attribute(gateTag)).isEqualTo("tag-t2");
  }

  @Test
  void aPathOutsideTheRoutePrefixReportsNothing() throws Exception {
    for (String path : new String[] {"/elsewhere", "/peer", "/favicon.ico"}) {
      assertThat(gateway.get(path).statusCode()).as(path).isEqualTo(404);
    }
    assertThat(gateway.get("/peer/svc/", "X-Tag", "last").statusCode()).isEqualTo(200);

    drain();
    assertThat(gateSaw).singleElement().satisfies(c -> assertThat(c.request().attribute(gateTag)).isEqualTo("tag-last"));
    assertThat(observerSaw).hasSize(1);
  }

  @Test
  void everyExchangeIsReportedOnce() throws Exception {
    gateway.get("/peer/svc/a", "X-Tag", "1");
    gateway.get("/peer/svc/b", "X-Deny", "1");
    gateway.get("/peer/dead/c");
    gateway.get("/peer/svc/d", "X-Tag", "4");

    drain();
    assertThat(gateSaw).extracting(c -> c.request().upstreamPath()).containsExactlyInAnyOrder("/a", "/b", "/c", "/d");
    assertThat(observerSaw).containsExactlyInAnyOrderElementsOf(gateSaw);
  }
}
