package dev.portalgateway.host.front;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Thousands of agents keep their connections open and send a request now and then: the gateway
 * must keep every one of them (the JDK's server kept 200 and closed the rest after each response),
 * and say on {@code /metrics} how many it holds.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ManyKeepAliveClientsTest {
  private static final int CLIENTS = 2000;

  @Test
  void twoThousandKeepAliveClientsKeepTheirConnectionsBetweenRequests() throws Exception {
    try (TestBackend backend = new TestBackend()) {
      backend.route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "ok"));
      try (TestGateway g = TestGateway.start("portal", "upstreams:\n  b: \"" + backend.url() + "\"\n")) {
        List<Socket> clients = new ArrayList<>();
        try {
          for (int i = 0; i < CLIENTS; i++) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), g.port());
            s.setSoTimeout(60_000);
            clients.add(s);
          }
          for (int round = 1; round <= 3; round++) {
            for (Socket s : clients) {
              s.getOutputStream().write(("GET /peer/b/round-" + round + " HTTP/1.1\r\nHost: gw\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
              s.getOutputStream().flush();
            }
            for (int i = 0; i < clients.size(); i++) {
              String head = readResponse(clients.get(i).getInputStream());
              assertThat(head).as("round %d, client %d", round, i).startsWith("HTTP/1.1 200 ")
                  .doesNotContainIgnoringCase("connection: close");
            }
            if (round == 1) {
              g.awaitMetrics("portal_gateway_client_connections " + CLIENTS + ".0");
            }
            Thread.sleep(500); // agents think between their calls
          }
          // Every client is still on its first connection: a closed one would have failed above.
          assertThat(g.metrics()).contains("portal_gateway_client_connections " + CLIENTS + ".0",
              "portal_gateway_client_connections_refused_total 0.0");
        } finally {
          for (Socket s : clients) {
            s.close();
          }
        }
        g.awaitMetrics("portal_gateway_client_connections 0.0");
      }
    }
  }

  /** Reads one response (head and a Content-Length body) and returns its head. */
  private static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the gateway closed the connection: " + head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int at = text.toLowerCase(Locale.ROOT).indexOf("content-length:");
    int length = Integer.parseInt(text.substring(at + 15, text.indexOf('\r', at)).trim());
    in.readNBytes(length);
    return text;
  }
}
