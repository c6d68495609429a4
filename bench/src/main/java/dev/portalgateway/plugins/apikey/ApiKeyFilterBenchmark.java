package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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
 * What the auth-apikey filter adds to one request once the key is verified (the steady state):
 * find the key, SHA-256 it, look the result up, check lease, address and scopes, strip the key and
 * set the principal. {@code passThrough} is the same request with no filter, for scale. Measured
 * apart from HTTP, so that the figure does not drown in the noise of a load test on a small machine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ApiKeyFilterBenchmark {
  private static final Response OK = Response.of(200, Headers.empty(), Body.empty());

  private ApiKeyFilter filter;
  private Request request;
  private Path dir;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("apikey-bench");
    ApiKey key = ApiKey.generate(new SecureRandom());
    StoredKey stored = new StoredKey(key.id(), "bench", KeyVerifier.hash(key.secret(), 10), List.of("backend"),
        List.of("read"), List.of("127.0.0.0/8"), false, Instant.now(), null, false, null, null, null);
    KeysFile file = new KeysFile(dir.resolve("keys.yaml"));
    file.update(keys -> List.of(stored));
    ApiKeySettings settings = new ApiKeySettings(null, null, null, null, null, List.of("10.0.0.0/8"),
        Map.of("*", List.of("read")), null, null, null, null, null, null, null);
    KeyRingSource source = new KeyRingSource(file, new KeyRingSource.Listener() {
      @Override
      public void reloaded(KeyRing ring, Map<String, String> changes) {}

      @Override
      public void refused(String message) {}
    });
    KeyVerifier verifier = new KeyVerifier(10_000, Duration.ofMinutes(5), Duration.ofMinutes(1), () -> {});
    filter = new ApiKeyFilter(settings, source, StaticKeys.NONE, verifier, new FailureThrottle(10, Duration.ofMinutes(1)),
        Clock.systemUTC(), new Audit(new QuietContext(dir)));
    request = Request.builder().method("GET").route("backend").upstreamPath("/v1/items").rawQuery("page=2")
        .headers(Headers.of("Authorization", "Bearer " + key.text(), "Accept", "application/json",
            "User-Agent", "bench/1"))
        .clientAddress(InetAddress.getLoopbackAddress()).requestId("r1").build();
    if (filter.handle(request, r -> OK).status() != 200) {
      throw new IllegalStateException("the benchmark key was refused");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    filter.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public Response authenticated() throws Exception {
    return filter.handle(request, r -> OK);
  }

  @Benchmark
  public Response passThrough() throws Exception {
    Connector next = r -> OK;
    return next.send(request);
  }

  /** A plugin context whose metrics and events go nowhere. */
  private record QuietContext(Path dataDirectory) implements PluginContext {
    @Override
    public String pluginName() {
      return "auth-apikey";
    }

    @Override
    public System.Logger logger() {
      return System.getLogger("bench");
    }

    @Override
    public void event(System.Logger.Level level, String message, Map<String, ?> fields) {}

    @Override
    public Connector routes() {
      return r -> OK;
    }

    @Override
    public PluginMetrics metrics() {
      return new PluginMetrics() {
        @Override
        public Counter counter(String name, String help, String... labelNames) {
          return new Counter() {
            @Override
            public void inc(String... labelValues) {}

            @Override
            public void add(double amount, String... labelValues) {}
          };
        }

        @Override
        public Gauge gauge(String name, String help, String... labelNames) {
          return new Gauge() {
            @Override
            public void set(double value, String... labelValues) {}

            @Override
            public void add(double delta, String... labelValues) {}
          };
        }

        @Override
        public Histogram histogram(String name, String help, String... labelNames) {
          return (value, labelValues) -> {};
        }
      };
    }

    @Override
    public Clock clock() {
      return Clock.systemUTC();
    }

    @Override
    public ScheduledExecutorService scheduler() {
      return Executors.newSingleThreadScheduledExecutor();
    }
  }
}
