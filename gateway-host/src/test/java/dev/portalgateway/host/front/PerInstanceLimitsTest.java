package dev.portalgateway.host.front;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two gateways in one JVM, each with its own limits from its own file: nothing is a JVM-wide
 * property. One holds two connections and answers a third with 503; one gives a request head 1 s
 * and answers a slower one with 408; the other gateway, with the defaults, does neither.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PerInstanceLimitsTest {
  @Test
  void eachGatewayKeepsTheLimitsOfItsOwnConfiguration() throws Exception {
    try (TestBackend backend = new TestBackend();
        TestGateway tight = TestGateway.start("portal", "  max_connections: 2\n  header_read_timeout: 1s\n"
            + "upstreams:\n  b: \"" + backend.url() + "\"\n");
        TestGateway roomy = TestGateway.start("portal", "upstreams:\n  b: \"" + backend.url() + "\"\n")) {
      backend.route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "ok"));

      List<Socket> held = new ArrayList<>();
      try {
        for (TestGateway g : List.of(tight, roomy)) {
          for (int i = 0; i < 2; i++) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), g.port());
            s.setSoTimeout(10_000);
            held.add(s);
          }
        }
        tight.awaitMetrics("portal_gateway_client_connections 2.0");
        try (Socket third = new Socket(InetAddress.getLoopbackAddress(), tight.port())) {
          third.setSoTimeout(10_000);
          assertThat(statusLine(third.getInputStream())).startsWith("HTTP/1.1 503 ");
        }
        assertThat(tight.metrics()).contains("portal_gateway_client_connections_refused_total 1.0");
        try (Socket third = new Socket(InetAddress.getLoopbackAddress(), roomy.port())) {
          third.setSoTimeout(10_000);
          third.getOutputStream().write("GET /peer/b/ HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          assertThat(statusLine(third.getInputStream())).startsWith("HTTP/1.1 200 ");
        }
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }

      // A head trickled in slower than header_read_timeout: 408 on the tight gateway only.
      tight.awaitMetrics("portal_gateway_client_connections 0.0");
      try (Socket slow = new Socket(InetAddress.getLoopbackAddress(), tight.port())) {
        slow.setSoTimeout(20_000);
        slow.getOutputStream().write("GET /peer/b/ HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
        slow.getOutputStream().flush();
        assertThat(statusLine(slow.getInputStream())).startsWith("HTTP/1.1 408 ");
      }
    }
  }

  private static String statusLine(InputStream in) throws Exception {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
      line.write(b);
    }
    return line.toString(StandardCharsets.ISO_8859_1).trim();
  }
}
