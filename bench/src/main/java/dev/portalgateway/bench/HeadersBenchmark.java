package dev.portalgateway.bench;

import dev.portalgateway.api.Headers;
import dev.portalgateway.host.proxy.HopByHop;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the proxy path does with request headers on every request: {@link Headers} lookups (the
 * flat array with a linear, case-insensitive scan) and {@link HopByHop#strip}.
 *
 * <p>The request is a browser's, 15 fields, spelled the way the JDK server hands names over
 * (first letter upper case, the rest lower case) while the gateway looks them up in their usual
 * spelling ({@code X-Request-Id}): that mismatch is the common case, and it is the slower path
 * of {@code equalsIgnoreCase}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HeadersBenchmark {
  /** Fields (not constants) so the JIT cannot fold the lookups away. */
  private Headers browserRequest;
  private Headers withoutHopByHop;
  private String early;
  private String late;
  private String absent;

  @Setup
  public void setUp() {
    browserRequest = parsed(
        "Host", "api.example.com",
        "Connection", "keep-alive",
        "Sec-ch-ua", "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"",
        "Accept", "application/json, text/plain, */*",
        "Content-type", "application/json",
        "Sec-ch-ua-mobile", "?0",
        "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl",
        "User-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Sec-ch-ua-platform", "\"Linux\"",
        "Origin", "https://app.example.com",
        "Sec-fetch-site", "same-site",
        "Referer", "https://app.example.com/dashboard",
        "Accept-encoding", "gzip, deflate, br, zstd",
        "Accept-language", "en-US,en;q=0.9,de;q=0.8",
        "X-request-id", "6f1c2a9e-1f3b-4c55-9a0e-2b7d9c1e4f10");
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < browserRequest.size(); i++) {
      if (!HopByHop.isHopByHop(browserRequest.name(i))) {
        b.add(browserRequest.name(i), browserRequest.value(i));
      }
    }
    withoutHopByHop = b.build();
    early = "Host";
    late = "X-Request-Id";
    absent = "X-Forwarded-For";
  }

  /**
   * Headers as a server hands them over: every string freshly made from the wire, never the same
   * object as the constant looked up, so {@code equalsIgnoreCase} cannot succeed on identity.
   */
  private static Headers parsed(String... namesAndValues) {
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      b.add(new String(namesAndValues[i].toCharArray()), new String(namesAndValues[i + 1].toCharArray()));
    }
    return b.build();
  }

  /** The first field: the best case of the linear scan. */
  @Benchmark
  public String firstEarlyField() {
    return browserRequest.first(early);
  }

  /** The last field: the whole array is scanned. */
  @Benchmark
  public String firstLastField() {
    return browserRequest.first(late);
  }

  /** A missing field, as most lookups on the proxy path are (X-Forwarded-For, Transfer-Encoding). */
  @Benchmark
  public String firstAbsentField() {
    return browserRequest.first(absent);
  }

  /** {@code all} of a missing field, as the proxy does for X-Forwarded-For and Content-Length. */
  @Benchmark
  public List<String> allAbsentField() {
    return browserRequest.all(absent);
  }

  /** A browser request carries {@code Connection: keep-alive}, so strip rebuilds the headers. */
  @Benchmark
  public Headers stripWithConnectionField() {
    return HopByHop.strip(browserRequest);
  }

  /** Nothing to remove: strip scans and returns its argument. */
  @Benchmark
  public Headers stripNothingToRemove() {
    return HopByHop.strip(withoutHopByHop);
  }
}
