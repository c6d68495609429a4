package dev.portalgateway.host.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Attribute;
import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Chain;
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
  void onlyTheUpstreamsLocationsAndCookiesAreMappedNotAFiltersOwn() throws Exception {
    backend.route("/moved", ex -> {
      ex.getResponseHeaders().add("Location", "/next");
      ex.getResponseHeaders().add("Set-Cookie", "up=1; Path=/");
      ex.sendResponseHeaders(302, -1);
    });
    // A login filter answers by itself: its redirect and cookie are already in the gateway's space.
    Response own = chain((request, next) -> request.upstreamPath().equals("/login")
        ? Response.of(302, Headers.of("Location", "/oauth2/callback", "Set-Cookie", "session=s; Path=/"), Body.empty())
        : next.proceed(request)).proceed(Request.builder().route("backend").upstreamPath("/login").build());
    assertThat(own.headers().first("Location")).isEqualTo("/oauth2/callback");
    assertThat(own.headers().first("Set-Cookie")).isEqualTo("session=s; Path=/");
    // The upstream's pass through the same filter, mapped under the route.
    Response upstream = chain((request, next) -> next.proceed(request))
        .proceed(Request.builder().route("backend").upstreamPath("/moved").build());
    assertThat(upstream.headers().first("Location")).isEqualTo("/peer/backend/next");
    assertThat(upstream.headers().first("Set-Cookie")).isEqualTo("up=1; Path=/peer/backend/");
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

  // ---- authenticators ----

  /** How a test authenticator answers a request it handles. */
  private enum Answer { PASS, UNAUTHORIZED, THROW_UNAUTHORIZED, FORBIDDEN }

  /**
   * An authenticator that recognises {@code Authorization: <scheme> ...}, records each call and
   * answers as told: passing the request on as user {@code scheme}, or refusing it with a 401
   * challenge {@code <scheme> realm="gw"} and body {@code <scheme> says no}.
   */
  private record TestAuth(String scheme, Answer answer, List<String> calls) implements Authenticator {
    @Override
    public boolean recognizes(Request request) {
      calls.add(scheme + ".recognizes");
      String auth = request.headers().first("Authorization");
      return auth != null && auth.startsWith(scheme + " ");
    }

    @Override
    public Response handle(Request request, Chain chain) throws IOException {
      calls.add(scheme + ".handle");
      return switch (answer) {
        case PASS -> chain.proceed(request.withHeader("X-User", scheme));
        case UNAUTHORIZED -> Response.text(401, "text/plain", scheme + " says no")
            .withHeader("WWW-Authenticate", scheme + " realm=\"gw\"");
        case THROW_UNAUTHORIZED -> throw new ProblemException(
            Problem.of(401, "unauthorized", "Unauthorized", scheme + " says no", null),
            Headers.of("WWW-Authenticate", scheme + " realm=\"gw\""), null);
        case FORBIDDEN -> Response.text(403, "text/plain", scheme + " forbids");
      };
    }
  }

  /** A chain of these filters, each in the AUTHENTICATE phase (as the factory requires of authenticators). */
  private FilterChain authChain(Filter... filters) {
    List<ActiveFilter> active = new ArrayList<>();
    for (int i = 0; i < filters.length; i++) {
      active.add(new ActiveFilter("a" + i, Phase.AUTHENTICATE, filters[i], pluginLoader, () -> {}, Map.of()));
    }
    return new FilterChain(active, routes);
  }

  private static Request withAuthorization(String value) {
    return post("x").withHeader("Authorization", value);
  }

  @Test
  void theFirstAuthenticatorThatRecognisesTheCredentialDecidesAlone() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    FilterChain chain = authChain(new TestAuth("Bearer", Answer.UNAUTHORIZED, calls),
        new TestAuth("ApiKey", Answer.PASS, calls), new TestAuth("Basic", Answer.PASS, calls));

    Response r = chain.proceed(withAuthorization("ApiKey k-1"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(text(r)).isEqualTo("call=1 user=ApiKey body=x");
    assertThat(calls).containsExactly("Bearer.recognizes", "ApiKey.recognizes", "ApiKey.handle");
  }

  @Test
  void aRecognisingAuthenticatorsRefusalStandsWithOnlyItsOwnChallenge() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    FilterChain chain = authChain(new TestAuth("ApiKey", Answer.PASS, calls),
        new TestAuth("Bearer", Answer.UNAUTHORIZED, calls), new TestAuth("Basic", Answer.PASS, calls));

    Response r = chain.proceed(withAuthorization("Bearer expired"));

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().all("WWW-Authenticate")).containsExactly("Bearer realm=\"gw\"");
    assertThat(text(r)).isEqualTo("Bearer says no");
    assertThat(calls).doesNotContain("ApiKey.handle", "Basic.handle", "Basic.recognizes");
    assertThat(backendCalls).hasValue(0);
  }

  @Test
  void whenNoneRecognisesEachIsAskedInOrderAndTheFirstToLetTheRequestThroughDecides() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    FilterChain chain = authChain(new TestAuth("Bearer", Answer.UNAUTHORIZED, calls),
        new TestAuth("ApiKey", Answer.PASS, calls), new TestAuth("Basic", Answer.UNAUTHORIZED, calls));

    Response r = chain.proceed(post("x"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(text(r)).isEqualTo("call=1 user=ApiKey body=x");
    assertThat(calls).containsExactly("Bearer.recognizes", "ApiKey.recognizes", "Basic.recognizes",
        "Bearer.handle", "ApiKey.handle");
  }

  @Test
  void whenNoneRecognisesTheFirstAnswerOtherThan401Decides() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    FilterChain chain = authChain(new TestAuth("Bearer", Answer.UNAUTHORIZED, calls),
        new TestAuth("ApiKey", Answer.FORBIDDEN, calls), new TestAuth("Basic", Answer.PASS, calls));

    Response r = chain.proceed(withAuthorization("Digest abc"));

    assertThat(r.status()).isEqualTo(403);
    assertThat(text(r)).isEqualTo("ApiKey forbids");
    assertThat(r.headers().all("WWW-Authenticate")).isEmpty();
    assertThat(calls).doesNotContain("Basic.handle");
    assertThat(backendCalls).hasValue(0);
  }

  @Test
  void whenEveryOneAnswers401TheClientGetsOne401WithEveryChallengeInChainOrder() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    FilterChain chain = authChain(new TestAuth("Bearer", Answer.UNAUTHORIZED, calls),
        new TestAuth("ApiKey", Answer.UNAUTHORIZED, calls), new TestAuth("Basic", Answer.UNAUTHORIZED, calls));

    Response r = chain.proceed(post("x"));

    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().all("WWW-Authenticate"))
        .containsExactly("Bearer realm=\"gw\"", "ApiKey realm=\"gw\"", "Basic realm=\"gw\"");
    assertThat(text(r)).isEqualTo("Bearer says no");
    assertThat(calls).filteredOn(c -> c.endsWith(".handle"))
        .containsExactly("Bearer.handle", "ApiKey.handle", "Basic.handle");
    assertThat(backendCalls).hasValue(0);
  }

  @Test
  void anAuthenticatorThatThrowsA401IsOneOfThe401sAndTheNextOneIsStillAsked() throws Exception {
    // Filter.handle: "throw ProblemException to answer with a specific status". A thrown 401 is
    // that authenticator's answer, so it must not keep the others from being asked.
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    FilterChain chain = authChain(new TestAuth("Bearer", Answer.THROW_UNAUTHORIZED, calls),
        new TestAuth("ApiKey", Answer.PASS, calls));

    Response r = chain.proceed(post("x"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(text(r)).isEqualTo("call=1 user=ApiKey body=x");
    assertThat(calls).containsSubsequence("Bearer.handle", "ApiKey.handle");
  }

  @Test
  void aPlainFilterBesideTheAuthenticatorsRunsOnceAfterTheirDecision() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    Filter plain = (request, next) -> {
      calls.add("plain.handle user=" + request.headers().first("X-User"));
      return next.proceed(request);
    };
    FilterChain chain = authChain(new TestAuth("Bearer", Answer.UNAUTHORIZED, calls), plain,
        new TestAuth("ApiKey", Answer.PASS, calls));

    Response r = chain.proceed(post("x"));

    assertThat(text(r)).isEqualTo("call=1 user=ApiKey body=x");
    assertThat(calls).filteredOn(c -> c.startsWith("plain")).containsExactly("plain.handle user=ApiKey");
  }

  @Test
  void anAuthenticatorThatFailsToLookIsTreatedAsNotRecognising() throws Exception {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    Authenticator broken = new Authenticator() {
      @Override
      public boolean recognizes(Request request) {
        throw new IllegalStateException("cannot look");
      }

      @Override
      public Response handle(Request request, Chain chain) {
        calls.add("broken.handle");
        return Response.text(401, "text/plain", "broken says no").withHeader("WWW-Authenticate", "Broken");
      }
    };
    FilterChain chain = authChain(broken, new TestAuth("ApiKey", Answer.PASS, calls));

    Response r = chain.proceed(withAuthorization("ApiKey k"));

    // ApiKey recognises it, and decides alone.
    assertThat(text(r)).isEqualTo("call=1 user=ApiKey body=x");
    assertThat(calls).doesNotContain("broken.handle");
  }
}
