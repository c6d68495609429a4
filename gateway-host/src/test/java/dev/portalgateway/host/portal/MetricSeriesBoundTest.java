package dev.portalgateway.host.portal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Made-up lease IDs in URLs must not grow {@code /metrics}: anyone can send them, and every new
 * label value would be new series in several metrics, never removed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricSeriesBoundTest {
  private static final String BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  @TempDir
  Path dir;

  @Test
  void aThousandRequestsToRandomLeaseIdsAddNoSeriesPastTheFirstUnknownOne() throws Exception {
    try (TestBackend backend = new TestBackend();
        DevRelay relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0))) {
      backend.route("/hello", ex -> TestBackend.respond(ex, 200, "text/plain", "hello"));
      DevTunnel tunnel = DevTunnel.start(relay.url(), PortalIdentity.generate(), "demo",
          new InetSocketAddress("127.0.0.1", URI.create(backend.url()).getPort()));
      try (TestGateway g = TestGateway.start("jdk", "  data_dir: \"" + dir.resolve("data") + "\"\nrelay:\n  url: \""
          + relay.url() + "\"\n")) {
        g.awaitMetrics("portal_gateway_relay_connected 1.0");
        assertThat(g.get("/peer/demo/hello").statusCode()).isEqualTo(200);
        assertThat(g.get("/peer/" + randomLeaseId() + "/x").statusCode()).isEqualTo(404);
        int before = series(g.awaitMetrics("route=\"unknown\""));

        SecureRandom random = new SecureRandom();
        for (int batch = 0; batch < 125; batch++) {
          List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            String id = random.nextBoolean() ? randomLeaseId() : "made-up-" + random.nextLong();
            calls.add(g.client().sendAsync(HttpRequest.newBuilder(g.uri("/peer/" + id + "/x")).build(),
                HttpResponse.BodyHandlers.ofString()));
          }
          for (var call : calls) {
            assertThat(call.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(404);
          }
        }
        String after = g.awaitMetrics(m -> m.contains("route=\"unknown\",method=\"GET\",status_class=\"4xx\",} 1001.0"),
            "all 1,001 unknown requests counted");
        assertThat(series(after)).isEqualTo(before);
        assertThat(after).contains("lease=\"demo\"").doesNotContain("lease=\"made-up");
      } finally {
        tunnel.close();
      }
    }
  }

  private static String randomLeaseId() {
    SecureRandom random = new SecureRandom();
    StringBuilder id = new StringBuilder(26);
    for (int i = 0; i < 26; i++) {
      id.append(BASE32.charAt(random.nextInt(32)));
    }
    return id.toString();
  }

  /** @return the number of series: lines that are not comments */
  private static int series(String metrics) {
    return (int) metrics.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).count();
  }
}
