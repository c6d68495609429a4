package dev.portalgateway.host.front;

import static dev.portalgateway.host.front.RawHttp.line;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A chunked response leaves as the handler writes it: one chunk per write, its size line, data and
 * CRLF together, never split into small writes that Nagle's algorithm and a delayed ACK would hold
 * back (the sockets have TCP_NODELAY too; the latency itself is measured in bench/, not here).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ChunkedResponseTest {
  @Test
  void aWriteOf32KiBIsOneChunkAndTheHeadComesWithIt() throws Exception {
    byte[] payload = new byte[32 * 1024];
    Arrays.fill(payload, (byte) 'x');
    FrontServer server = FrontServer.create(new InetSocketAddress("127.0.0.1", 0), 16,
        new FrontLimits(100, Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(30), 8192), null);
    server.createContext("/", exchange -> {
      exchange.getResponseHeaders().set("Content-Type", "text/plain");
      exchange.sendResponseHeaders(200, 0);
      exchange.getResponseBody().write(payload);
      exchange.getResponseBody().flush();
      exchange.getResponseBody().write(payload, 0, 10);
      exchange.close();
    });
    server.start();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String head = line(in);
      assertThat(head).isEqualTo("HTTP/1.1 200 OK");
      String field;
      boolean chunked = false;
      while (!(field = line(in)).isEmpty()) {
        chunked |= field.equalsIgnoreCase("Transfer-Encoding: chunked");
      }
      assertThat(chunked).isTrue();
      assertThat(line(in)).isEqualTo(Integer.toHexString(payload.length)); // one chunk for the whole write
      assertThat(in.readNBytes(payload.length)).isEqualTo(payload);
      assertThat(line(in)).isEmpty();
      assertThat(line(in)).isEqualTo("a");
      assertThat(new String(in.readNBytes(10), StandardCharsets.US_ASCII)).isEqualTo("xxxxxxxxxx");
      assertThat(line(in)).isEmpty();
      assertThat(line(in)).isEqualTo("0");
      assertThat(line(in)).isEmpty();
    } finally {
      server.stop(0);
    }
  }
}
