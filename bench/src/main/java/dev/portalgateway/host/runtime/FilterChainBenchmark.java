package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.plugin.ActiveFilter;
import java.net.InetAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the {@link FilterChain} itself costs a request: the chain of 0, 1 or 3 filters that do
 * nothing but pass the request on, ending in a connector that answers at once, against calling
 * that connector directly ({@link #direct}). The difference is the chain's overhead: per link the
 * context class loader switch, the principal check and the lambda that notes the downstream
 * body; at the end the connector lookup, the class loader switch and the connector timing.
 *
 * <p>The request carries the host's {@link ExchangeRecord}, as every proxied request does (one
 * record reused across calls; the connector time it sums is never read here). The connector is
 * the route table's fallback, the way leases reach the relay connector; a configured upstream
 * would differ by one hash lookup. Each filter has its own class loader, as a plugin has.
 *
 * <p>In this package because the chain's constructor is package-private.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FilterChainBenchmark {
  private static final Response OK = Response.of(200, Headers.empty(), Body.empty());
  private static final Phase[] PHASES = {Phase.AUTHENTICATE, Phase.LIMIT, Phase.CACHE};

  /** The request through the chain and the connector. */
  @Benchmark
  public Response chain(ChainState s) throws Exception {
    return s.chain.proceed(s.request);
  }

  /** The same request to the same kind of connector, called directly: the baseline. */
  @Benchmark
  public Response direct(DirectState s) throws Exception {
    return s.connector.send(s.request);
  }

  /** A proxied request as {@code ProxyHandler} builds it, with its exchange record. */
  static Request proxiedRequest() {
    return Request.builder().method("GET").scheme("http").host("127.0.0.1:8080").path("/peer/backend/x")
        .route("backend").upstreamPath("/x")
        .headers(Headers.of("Host", "127.0.0.1:8080", "Accept", "*/*", "X-Request-Id", "r1"))
        .clientAddress(InetAddress.getLoopbackAddress()).requestId("r1")
        .attribute(FilterChain.EXCHANGE_RECORD, new ExchangeRecord()).build();
  }

  /** The request and a connector that answers at once. */
  @State(Scope.Benchmark)
  public static class DirectState {
    final Connector connector = r -> OK;
    final Request request = proxiedRequest();
  }

  /** The chain of {@code filters} pass-through filters in front of the connector. */
  @State(Scope.Benchmark)
  public static class ChainState {
    @Param({"0", "1", "3"})
    int filters;

    final Connector connector = r -> OK;
    final Request request = proxiedRequest();
    RouteTable routes;
    FilterChain chain;
    private final List<URLClassLoader> loaders = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      routes = RouteTable.of(new ConfigLoader(name -> null, Path.of("plugins"))
          .fromText("relay:\n  enabled: false\n", null).config(), connector);
      List<ActiveFilter> active = new ArrayList<>();
      for (int i = 0; i < filters; i++) {
        URLClassLoader loader = new URLClassLoader("plugin-" + i, new URL[0], FilterChainBenchmark.class.getClassLoader());
        loaders.add(loader);
        Filter pass = (req, next) -> next.proceed(req);
        active.add(new ActiveFilter("pass-" + i, PHASES[i % PHASES.length], pass, loader, () -> {}, Map.of()));
      }
      chain = new FilterChain(active, routes);
      if (chain.proceed(request) != OK) {
        throw new IllegalStateException("the chain did not reach the connector");
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
      routes.close();
      for (URLClassLoader loader : loaders) {
        loader.close();
      }
    }
  }
}
