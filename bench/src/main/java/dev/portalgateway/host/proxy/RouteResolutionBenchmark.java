package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Connector;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.runtime.Route;
import dev.portalgateway.host.runtime.RouteTable;
import java.nio.file.Path;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * How a {@code /peer/NAME/REST} request finds its connector: {@link PeerPath#parse} splits the
 * raw path (and refuses dot segments), then {@code ProxyHandler} asks the generation's
 * {@link RouteTable} for the route's CORS policy, the chain's last link for its connector, and
 * the metrics for its label. The query never reaches this code: the server hands the path and
 * the query over already split ({@code URI.getRawPath()}, {@code getRawQuery()}).
 *
 * <p>In this package because {@link PeerPath} is package-private. The table has 20 upstreams
 * (the lookup is a hash lookup, so their number hardly matters); the connectors are the real
 * {@code http} connectors, never called, since sending is not route resolution.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouteResolutionBenchmark {
  /**
   * The load test's path; a typical REST path; and one with percent-escapes, which the dot-segment
   * check decodes one by one. Named so that the result table says which is which.
   */
  @Param({"short", "rest", "escaped"})
  String path;

  private static final Map<String, String> PATHS = Map.of(
      "short", "/peer/backend/x",
      "rest", "/peer/backend/api/v1/users/42/orders/7/items",
      "escaped", "/peer/backend/files/My%20Documents/Q3%20report%20%282024%29.pdf");

  private RouteTable routes;
  private String rawPath;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    StringBuilder yaml = new StringBuilder("relay:\n  enabled: false\nupstreams:\n");
    for (int i = 0; i < 19; i++) {
      yaml.append("  svc-").append(i).append(": \"http://127.0.0.1:").append(18100 + i).append("\"\n");
    }
    yaml.append("  backend: \"http://127.0.0.1:18080/base\"\n");
    routes = RouteTable.of(new ConfigLoader(name -> null, Path.of("plugins")).fromText(yaml.toString(), null).config());
    // A fresh string, as the server makes one per request: no identity shortcut in any lookup.
    rawPath = new String(PATHS.get(path).toCharArray());
    if (!"backend".equals(PeerPath.parse(rawPath, "/peer/").route()) || routes.route("backend") == null) {
      throw new IllegalStateException("the benchmark path does not resolve to the backend route");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    routes.close();
  }

  /** Splitting the path and checking it for dot segments, alone. */
  @Benchmark
  public PeerPath parse() throws ProblemException {
    return PeerPath.parse(rawPath, "/peer/");
  }

  /**
   * Everything the proxy does per request to place it: parse, the route's CORS policy, its
   * connector (what {@code RouteTable.connectorFor} returns for a configured name) and its
   * metrics label.
   */
  @Benchmark
  public void resolve(Blackhole bh) throws ProblemException {
    PeerPath target = PeerPath.parse(rawPath, "/peer/");
    String name = target.route();
    bh.consume(target.upstreamPath());
    bh.consume(routes.cors(name));
    Route route = routes.route(name);
    Connector connector = route == null ? null : route.connector();
    bh.consume(connector);
    bh.consume(routes.metricsLabel(name));
  }
}
