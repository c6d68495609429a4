package dev.portalgateway.host.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that stops reading must not hold the upstream forever: once a write to it has made no
 * progress for {@code proxy.write_timeout}, the gateway lets the upstream go.
 */
@ParameterizedClass(name = "provider={0}")
@ValueSource(strings = {"portal", "jdk", "robaho"})
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SlowReaderTest {
  @Parameter
  String provider;

  @Test
  void aClientThatStopsReadingLosesItsUpstreamAfterTheWriteTimeout() throws Exception {
    CountDownLatch upstreamLetGo = new CountDownLatch(1);
    AtomicLong sent = new AtomicLong();
    try (TestBackend backend = new TestBackend()) {
      backend.route("/flood", ex -> {
        ex.sendResponseHeaders(200, 0);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = ex.getResponseBody()) {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          while (System.nanoTime() < deadline) {
            out.write(chunk);
            sent.addAndGet(chunk.length);
          }
        } catch (IOException gatewayHungUp) {
          upstreamLetGo.countDown();
        }
      });
      backend.route("/hello", ex -> TestBackend.respond(ex, 200, "text/plain", "hello"));
      try (TestGateway g = TestGateway.start(provider,
          "upstreams:\n  backend: \"" + backend.url() + "\"\nproxy:\n  write_timeout: 1s\n");
          Socket client = new Socket(InetAddress.getLoopbackAddress(), g.port())) {
        client.setReceiveBufferSize(4096);
        client.getOutputStream().write("GET /peer/backend/flood HTTP/1.1\r\nHost: gw\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        InputStream in = client.getInputStream();
        byte[] head = new byte[16];
        assertThat(in.read(head)).isPositive(); // the response began; from here on the client reads nothing

        assertThat(upstreamLetGo.await(60, TimeUnit.SECONDS))
            .as("the gateway closed the upstream of a client that stopped reading (%d bytes sent)", sent.get())
            .isTrue();
        // The exchange itself ended too, while the client still has read nothing: its blocked write
        // was given up, not left to wait for a reader that never comes.
        g.awaitMetrics("portal_gateway_request_outcomes_total{outcome=\"client-gone\",} 1.0",
            "portal_gateway_requests_in_flight 0.0");
        assertThat(g.get("/peer/backend/hello").body()).isEqualTo("hello"); // and it goes on serving
      }
    }
  }
}
