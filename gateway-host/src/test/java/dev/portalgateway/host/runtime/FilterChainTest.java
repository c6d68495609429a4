package dev.portalgateway.host.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Attribute;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.testing.TestBackend;
import java.io.FilterInputStream;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the SPI promises a filter, through the real chain and the real http connector to a real
 * backend: answer alone, change the request, retry with a replayable body, wrap a streaming body,
 * pass attributes on, and run under its own context class loader.
 */
class FilterChainTest {
  private TestBackend backend;
  private final AtomicInteger backendCalls = new AtomicInteger();
  private RouteTable routes;
  private final ClassLoader pluginLoader = new URLClassLoader("test-plugin", new URL[0], getClass().getClassLoader());

  @BeforeEach
  void start() throws Exception {
    backend = new TestBackend();
    backend.route("/echo", ex -> {
      int call = backendCalls.incrementAndGet();
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String user = ex.getRequestHeaders().getFirst("X-User");
      int status = body.contains("fail-first") && call == 1 ? 503 : 200;
      TestBackend.respond(ex, status, "text/plain", "call=" + call + " user=" + user + " body=" + body);
    });
    ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get, Path.of("none"));
    routes = RouteTable.of(loader.fromText("upstreams:\n  backend: \"" + backend.url() + "\"\n", null).config());
  }

  @AfterEach
  void stop() {
    routes.close();
    backend.close();
  }

  private FilterChain chain(Filter... filters) {
    List<ActiveFilter> active = new ArrayList<>();
    for (int i = 0; i < filters.length; i++) {
      active.add(new ActiveFilter("f" + i, Phase.DELIVER, filters[i], pluginLoader, () -> {}, Map.of()));
    }
    return new FilterChain(active, routes);
  }

  private static Request post(String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return Request.builder().method("POST").route("backend").upstreamPath("/echo")
        .body(Body.ofStream(new java.io.ByteArrayInputStream(bytes), bytes.length)).build();
  }

  private static String text(Response r) throws IOException {
    return new String(r.body().readAll(1 << 20), StandardCharsets.UTF_8);
  }

  @Test
  void aFilterCanAnswerWithoutReachingTheUpstream() throws Exception {
    FilterChain chain = chain((request, next) -> {
      throw new ProblemException(Problem.of(401, "unauthorized", "Unauthorized", "no key", null),
          Headers.of("WWW-Authenticate", "Bearer realm=\"portal-gateway\""), null);
    });
    ProblemException e = org.assertj.core.api.Assertions.catchThrowableOfType(ProblemException.class,
        () -> chain.proceed(post("x")));
    assertThat(e.toResponse().status()).isEqualTo(401);
    assertThat(e.toResponse().headers().first("WWW-Authenticate")).contains("Bearer");
    assertThat(backendCalls).hasValue(0);
  }

  @Test
  void aFilterCanChangeTheRequestAndAttachAttributesForLaterFilters() throws Exception {
    Attribute<String> tenant = Attribute.of("tenant", String.class);
    List<Object> seenByLater = new ArrayList<>();
    FilterChain chain = chain(
        (request, next) -> next.proceed(request
            .withAttribute(StandardAttributes.PRINCIPAL, new Principal("k1", "alex", "test", Set.of("read")))
            .withAttribute(tenant, "acme")),
        (request, next) -> {
          seenByLater.add(request.attribute(StandardAttributes.PRINCIPAL).name());
          seenByLater.add(request.attribute(tenant));
          return next.proceed(request.withHeader("X-User", request.attribute(StandardAttributes.PRINCIPAL).id()));
        });
    Response r = chain.proceed(post("hello"));
    assertThat(text(r)).isEqualTo("call=1 user=k1 body=hello");
    assertThat(seenByLater).containsExactly("alex", "acme");
  }

  @Test
  void aFilterCanRetryWithAReplayableBody() throws Exception {
    FilterChain chain = chain((request, next) -> {
      Request replayable = request.withReplayableBody(1024);
      Response first = next.proceed(replayable);
      if (first.status() < 500) {
        return first;
      }
      first.body().discard();
      return next.proceed(replayable);
    });
    Response r = chain.proceed(post("fail-first please"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(text(r)).isEqualTo("call=2 user=null body=fail-first please");
  }

  @Test
  void aFilterCanObserveAStreamingResponseBodyWithoutBufferingIt() throws Exception {
    AtomicLong counted = new AtomicLong();
    List<ClassLoader> loadersWhileReading = new ArrayList<>();
    FilterChain chain = chain((request, next) -> {
      Response response = next.proceed(request);
      return response.withBody(response.body().map(in -> new FilterInputStream(in) {
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          loadersWhileReading.add(Thread.currentThread().getContextClassLoader());
          int n = super.read(b, off, len);
          if (n > 0) {
            counted.addAndGet(n);
          }
          return n;
        }
      }));
    });
    Response r = chain.proceed(post("abc"));
    assertThat(r.body().length()).isEqualTo(-1);
    String body = text(r);
    assertThat(counted.get()).isEqualTo(body.getBytes(StandardCharsets.UTF_8).length);
    // Reading the wrapped body runs the plugin's code, so it runs under the plugin's loader.
    assertThat(loadersWhileReading).isNotEmpty().allMatch(l -> l == pluginLoader);
  }

  @Test
  void filtersRunUnderTheirPluginsContextClassLoaderAndTheHostsIsRestored() throws Exception {
    List<ClassLoader> seen = new ArrayList<>();
    ClassLoader before = Thread.currentThread().getContextClassLoader();
    FilterChain chain = chain((request, next) -> {
      seen.add(Thread.currentThread().getContextClassLoader());
      return next.proceed(request);
    });
    chain.proceed(post("x")).body().discard();
    assertThat(seen).containsExactly(pluginLoader);
    assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before);
  }

  @Test
  void thePrincipalIsRecordedForTheAccessLogEvenWhenALaterFilterAnswers() throws Exception {
    ExchangeRecord record = new ExchangeRecord();
    FilterChain chain = chain(
        (request, next) -> next.proceed(
            request.withAttribute(StandardAttributes.PRINCIPAL, new Principal("k7", null, "test", null))),
        (request, next) -> Problem.of(429, "rate-limited", "Too Many Requests", "slow down", null).toResponse());
    Response r = chain.proceed(post("x").withAttribute(FilterChain.EXCHANGE_RECORD, record));
    assertThat(r.status()).isEqualTo(429);
    assertThat(record.principal().id()).isEqualTo("k7");
    assertThat(record.upstreamNanos()).isEqualTo(-1);
    assertThat(backendCalls).hasValue(0);
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0} bytes declared, {1} sent")
  @org.junit.jupiter.params.provider.CsvSource({"3, 30", "30, 3", "20000, 40000", "40000, 20000"})
  void aBodyThatDoesNotMatchItsDeclaredLengthIsNeverSentAsIs(int declared, int actual) throws Exception {
    // A filter that "rewrites" the body but keeps the old length. Small bodies are checked when
    // read, large ones while they stream.
    FilterChain chain = chain((request, next) -> next.proceed(request.withBody(
        Body.ofStream(new java.io.ByteArrayInputStream("x".repeat(actual).getBytes(StandardCharsets.UTF_8)), declared))));
    ProblemException e = org.assertj.core.api.Assertions.catchThrowableOfType(ProblemException.class,
        () -> chain.proceed(post("abc")).body().discard());
    assertThat(e).isNotNull();
    assertThat(e.problem().status()).isEqualTo(500);
    assertThat(e.problem().type()).isEqualTo("body-length-mismatch");
    // The backend may have started on the head (the connection closed mid-body), but no surplus
    // reached it as a second request.
    Thread.sleep(100);
    assertThat(backendCalls.get()).isLessThanOrEqualTo(1);
  }

  @Test
  void theConnectorTimeIsRecordedForMetrics() throws Exception {
    ExchangeRecord record = new ExchangeRecord();
    FilterChain chain = chain((request, next) -> next.proceed(request));
    Request request = post("x").withAttribute(FilterChain.EXCHANGE_RECORD, record)
        .withAttribute(StandardAttributes.PRINCIPAL, new Principal("k9", null, "test", null));
    chain.proceed(request).body().discard();
    assertThat(record.upstreamNanos()).isPositive();
    assertThat(record.principal().id()).isEqualTo("k9");
  }
}
