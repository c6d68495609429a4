package dev.portalgateway.plugins.sso;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.bench.BenchIssuer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the sso-oauth filter adds to one request with a token it has verified before (the steady
 * state for a caller who reuses a token): SHA-256 of the token, the cache lookup, audience, scope
 * and group checks, the header removed and the principal set. {@code uncachedToken} goes through
 * a filter whose token cache holds nothing ({@code token_cache_size: 0}), so every call is a first
 * verification: parse, RS256 signature check against the cached JWKS, claims, caller.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BearerFilterBenchmark {
  private static final int DISTINCT = 10_000;
  private static final Response OK = Response.of(200, Headers.empty(), Body.empty());

  private BenchIssuer issuer;
  private BearerFilter filter;
  private Request request;
  private BearerFilter uncached;
  private byte[][] distinctHeaders;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    issuer = BenchIssuer.start();
    SsoSettings settings = new SsoSettings(List.of(issuer.issuer()), List.of("bench-gateway"), null, null, null, null,
        null, null, null, null, null, null, null, null, null, 1_000_000, null, null, null, null, null, null,
        null, null);
    Issuer trusted = new Issuer(issuer.issuer(), settings);
    trusted.discover();
    PluginCounter counter = new PluginCounter();
    filter = new BearerFilter(settings, List.of(trusted), Clock.systemUTC(), new ResourceMetadata(settings, "/peer/"),
        counter);
    request = request("Bearer " + issuer.token("alice", "bench-gateway"));
    if (filter.handle(request, r -> OK).status() != 200) {
      throw new IllegalStateException("the benchmark token was refused");
    }
    distinctHeaders = new byte[DISTINCT][];
    for (int i = 0; i < DISTINCT; i++) {
      distinctHeaders[i] = ("Bearer " + issuer.token("user-" + i, "bench-gateway")).getBytes(StandardCharsets.ISO_8859_1);
      if (filter.handle(distinctRequest(i), r -> OK).status() != 200) {
        throw new IllegalStateException("a benchmark token was refused");
      }
    }
    SsoSettings noCache = new SsoSettings(List.of(issuer.issuer()), List.of("bench-gateway"), null, null, null, null,
        null, null, null, null, null, null, null, null, null, 0, null, null, null, null, null, null, null, null);
    Issuer again = new Issuer(issuer.issuer(), noCache);
    again.discover();
    uncached = new BearerFilter(noCache, List.of(again), Clock.systemUTC(), new ResourceMetadata(noCache, "/peer/"),
        counter);
  }

  /** A request as the front server makes it: the header value a new string, decoded from the bytes read. */
  private Request distinctRequest(int i) {
    return request(new String(distinctHeaders[i], StandardCharsets.ISO_8859_1));
  }

  private static Request request(String authorization) {
    return Request.builder().method("GET").route("backend").upstreamPath("/v1/items").rawQuery("page=2")
        .headers(Headers.of("Authorization", authorization, "Accept", "application/json", "User-Agent", "bench/1"))
        .clientAddress(InetAddress.getLoopbackAddress()).requestId("r1").build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    issuer.close();
  }

  @Benchmark
  public Response cachedToken() throws Exception {
    return filter.handle(request, r -> OK);
  }

  /**
   * Tokens of 10,000 callers in turn, each verified before, as in the load test: the cached
   * callers no longer fit in the CPU's caches, so this is what a busy gateway sees.
   */
  @Benchmark
  public Response distinctTokens() throws Exception {
    int i = next;
    next = i + 1 == DISTINCT ? 0 : i + 1;
    return filter.handle(distinctRequest(i), r -> OK);
  }

  /** The same work as {@link #distinctTokens} for one caller's token every time: caches stay warm. */
  @Benchmark
  public Response oneTokenFreshRequest() throws Exception {
    return filter.handle(distinctRequest(0), r -> OK);
  }

  @Benchmark
  public Response uncachedToken() throws Exception {
    return uncached.handle(request, r -> OK);
  }

  @Benchmark
  public Response passThrough() throws Exception {
    Connector next = r -> OK;
    return next.send(request);
  }

  /** Counts nowhere. */
  private static final class PluginCounter implements dev.portalgateway.api.PluginMetrics.Counter {
    @Override
    public void inc(String... labelValues) {}

    @Override
    public void add(double amount, String... labelValues) {}
  }
}
