package dev.portalgateway.host.front;

import static dev.portalgateway.host.front.RawHttp.line;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A handler that answers without reading the request body (a refusal before the body matters,
 * such as a 401) leaves the connection usable: the front server reads the rest of a small body
 * before the next request, and closes the connection rather than read a large one. Without the
 * drain, the unread body's bytes would be parsed as the next request's head.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnreadRequestBodyTest {
  private FrontServer server;

  @BeforeEach
  void start() throws Exception {
    server = FrontServer.create(new InetSocketAddress("127.0.0.1", 0), 16,
        new FrontLimits(100, Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(30), 8192), null);
    server.createContext("/", exchange -> {
      byte[] answer = (exchange.getRequestMethod() + " " + exchange.getRequestURI()).getBytes(StandardCharsets.US_ASCII);
      exchange.sendResponseHeaders(200, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void theNextRequestOnTheConnectionIsServedAfterAnUnreadBodyOfEachFraming() throws Exception {
    try (Socket s = connect()) {
      String requests = "POST /fixed HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
          + "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
          + "GET /bodiless HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /last HTTP/1.1\r\nHost: x\r\n\r\n";
      s.getOutputStream().write(requests.getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      assertThat(answer(in)).isEqualTo("POST /fixed");
      assertThat(answer(in)).isEqualTo("POST /chunked");
      assertThat(answer(in)).isEqualTo("GET /bodiless");
      assertThat(answer(in)).isEqualTo("GET /last");
    }
  }

  @Test
  void anUnreadBodyLargerThanTheDrainLimitClosesTheConnectionAfterTheAnswer() throws Exception {
    try (Socket s = connect()) {
      int length = 1024 * 1024;
      s.getOutputStream().write(("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(new byte[128 * 1024]); // more than the server drains, less than the socket buffers hold
      InputStream in = s.getInputStream();
      assertThat(answer(in)).isEqualTo("POST /big");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  private Socket connect() throws Exception {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort());
    s.setSoTimeout(10_000);
    return s;
  }

  /** Reads one answer with a Content-Length and returns its body. */
  private static String answer(InputStream in) throws Exception {
    assertThat(line(in)).isEqualTo("HTTP/1.1 200 OK");
    int length = -1;
    for (String field; !(field = line(in)).isEmpty(); ) {
      if (field.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(field.substring(15).trim());
      }
    }
    assertThat(length).isNotNegative();
    return new String(in.readNBytes(length), StandardCharsets.US_ASCII);
  }
}
