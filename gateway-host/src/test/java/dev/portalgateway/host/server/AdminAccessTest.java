package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestGateway;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin listener answers only for IP literals and configured names, and asks for its token. */
class AdminAccessTest {
  @TempDir
  Path dir;

  /** A raw request, since HTTP clients will not send a Host of the test's choosing. @return the status line */
  private static String status(TestGateway g, String path, String host, String... headers) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), g.gateway().adminAddress().getPort())) {
      StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\n");
      if (host != null) {
        request.append("Host: ").append(host).append("\r\n");
      }
      for (String h : headers) {
        request.append(h).append("\r\n");
      }
      request.append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      return response.substring(0, response.indexOf("\r\n"));
    }
  }

  @Test
  void onlyIpLiteralsAndConfiguredNamesAreAnswered() throws Exception {
    try (TestGateway g = TestGateway.start("portal", "  admin_hosts: [localhost, gateway-admin.internal]\n", dir)) {
      int port = g.gateway().adminAddress().getPort();
      for (String host : new String[] {"127.0.0.1:" + port, "127.0.0.1", "10.1.2.3:9090", "[::1]:" + port, "[::1]",
          "localhost:" + port, "LOCALHOST", "localhost.", "gateway-admin.internal:9090"}) {
        assertThat(status(g, "/metrics", host)).as(host).contains(" 200 ");
      }
      // A page whose name now resolves to 127.0.0.1 still sends its own name: refused.
      for (String host : new String[] {"evil.example", "evil.example:" + port, "localhost.evil.example",
          "127.0.0.1.nip.io", "gateway-admin.internal.evil", "256.1.1.1", "[::1", "localhost:80:80"}) {
        assertThat(status(g, "/metrics", host)).as(host).contains(" 421 ");
        assertThat(status(g, "/healthz", host)).as(host).contains(" 421 ");
      }
    }
  }

  @Test
  void theTokenGuardsMetricsAndPluginEndpointsButNotTheProbes() throws Exception {
    try (TestGateway g = TestGateway.start("portal", "  admin_token: \"a-long-admin-token-for-tests\"\n", dir)) {
      String ip = "127.0.0.1";
      assertThat(status(g, "/metrics", ip)).contains(" 401 ");
      assertThat(status(g, "/metrics", ip, "Authorization: Bearer wrong-token-of-some-length")).contains(" 401 ");
      assertThat(status(g, "/metrics", ip, "Authorization: Bearer a-long-admin-token-for-tests")).contains(" 200 ");
      assertThat(status(g, "/plugins/none/x", ip)).contains(" 401 ");
      assertThat(status(g, "/plugins/none/x", ip, "Authorization: Bearer a-long-admin-token-for-tests")).contains(" 404 ");
      assertThat(status(g, "/healthz", ip)).contains(" 200 ");
      assertThat(status(g, "/readyz", ip)).contains(" 200 ");
    }
  }
}
