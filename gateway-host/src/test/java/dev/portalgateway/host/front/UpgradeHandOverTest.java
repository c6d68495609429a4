package dev.portalgateway.host.front;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hand-over a WebSocket proxy needs: after {@code sendResponseHeaders(101, -1)} the handler
 * reads and writes the raw connection through the exchange's streams, in the new protocol, with
 * no framing and no request deadline in between.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UpgradeHandOverTest {
  @Test
  void afterA101TheHandlerSpeaksTheNewProtocolOverTheRawConnection() throws Exception {
    FrontServer server = FrontServer.create(new InetSocketAddress("127.0.0.1", 0), 16,
        new FrontLimits(100, Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(1), 8192), null);
    server.createContext("/", exchange -> {
      if (!"echo".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Upgrade"))) {
        exchange.sendResponseHeaders(426, -1);
        exchange.close();
        return;
      }
      exchange.getResponseHeaders().set("Upgrade", "echo");
      exchange.getResponseHeaders().set("Connection", "Upgrade");
      exchange.sendResponseHeaders(101, -1);
      InputStream in = exchange.getRequestBody();
      OutputStream out = exchange.getResponseBody();
      byte[] buf = new byte[256];
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(("echo:" + new String(buf, 0, n, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
      }
      exchange.close();
    });
    server.start();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String head = readHead(in);
      assertThat(head).startsWith("HTTP/1.1 101 ").containsIgnoringCase("upgrade: echo")
          .doesNotContainIgnoringCase("content-length").doesNotContainIgnoringCase("transfer-encoding");
      // Longer than the request-read timeout (1 s) passes between messages: no deadline applies any more.
      for (String message : new String[] {"hello", "again"}) {
        Thread.sleep(1200);
        out.write(message.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] answer = in.readNBytes(("echo:" + message).length());
        assertThat(new String(answer, StandardCharsets.US_ASCII)).isEqualTo("echo:" + message);
      }
      s.shutdownOutput();
      assertThat(in.read()).isEqualTo(-1); // the handler saw the end and closed the connection
    } finally {
      server.stop(0);
    }
  }

  private static String readHead(InputStream in) throws Exception {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      assertThat(b).isNotNegative();
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }
}
