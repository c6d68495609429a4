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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each request a lenient parser lets through (and the controls) sent over a raw socket to a gateway
 * on the {@code portal} front server: the malformed ones get 400 (or 505, 431) and never reach the
 * upstream; the controls get 200 from it. Request texts use {@code |} for CRLF, and {@code {CR}},
 * {@code {LF}}, {@code {TAB}}, {@code {SOH}} for a lone CR, LF, tab and 0x01.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StrictParsingTest {
  private TestBackend backend;
  private TestGateway gateway;
  private final AtomicInteger reached = new AtomicInteger();
  private final AtomicInteger bodiesRead = new AtomicInteger();

  @BeforeAll
  void start() throws Exception {
    backend = new TestBackend();
    backend.route("/", ex -> {
      reached.incrementAndGet();
      byte[] body = ex.getRequestBody().readAllBytes();
      bodiesRead.incrementAndGet();
      TestBackend.respond(ex, 200, "text/plain", "got " + body.length);
    });
    gateway = TestGateway.start("portal", "upstreams:\n  b: \"" + backend.url() + "\"\n");
  }

  @AfterAll
  void stop() throws Exception {
    gateway.close();
    backend.close();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', textBlock = """
      bare CR inside a header line;       GET /peer/b/ HTTP/1.1|Host: x|X-A: 1{CR}X-B: 2||;                400
      obs-fold;                           GET /peer/b/ HTTP/1.1|Host: x|X-A: 1| folded||;                400
      Content-Length with a sign;         POST /peer/b/ HTTP/1.1|Host: x|Content-Length: +4||abcd;       400
      Content-Length list;                POST /peer/b/ HTTP/1.1|Host: x|Content-Length: 4, 4||abcd;     400
      two Content-Length fields;          POST /peer/b/ HTTP/1.1|Host: x|Content-Length: 4|Content-Length: 4||abcd; 400
      differing Content-Length fields;    POST /peer/b/ HTTP/1.1|Host: x|Content-Length: 4|Content-Length: 5||abcd; 400
      HTTP/9.9;                           GET /peer/b/ HTTP/9.9|Host: x||;                               505
      not HTTP;                           GET /peer/b/ FTP/1.1|Host: x||;                                400
      HTTP/1.1 without Host;              GET /peer/b/ HTTP/1.1||;                                       400
      two Host fields;                    GET /peer/b/ HTTP/1.1|Host: x|Host: y||;                       400
      a space inside the target;          GET /peer/b/a b HTTP/1.1|Host: x||;                            400
      0x01 in a header value;             GET /peer/b/ HTTP/1.1|Host: x|X-A: a{SOH}b||;                 400
      0x01 in the target;                 GET /peer/b/{SOH} HTTP/1.1|Host: x||;                         400
      chunked then identity;              POST /peer/b/ HTTP/1.1|Host: x|Transfer-Encoding: chunked, identity||0||; 400
      gzip transfer coding;               POST /peer/b/ HTTP/1.1|Host: x|Transfer-Encoding: gzip||;      400
      Content-Length with chunked;        POST /peer/b/ HTTP/1.1|Host: x|Content-Length: 3|Transfer-Encoding: chunked||0||; 400
      whitespace before the colon;        GET /peer/b/ HTTP/1.1|Host : x||;                              400
      a tab in the request line;          GET{TAB}/peer/b/ HTTP/1.1|Host: x||;                              400
      a target that is not a path;        GET peer/b/ HTTP/1.1|Host: x||;                                400
      a Host with a slash;                GET /peer/b/ HTTP/1.1|Host: x/y||;                             400
      plain GET;                          GET /peer/b/ HTTP/1.1|Host: x||;                               200
      POST with Content-Length;           POST /peer/b/ HTTP/1.1|Host: x|Content-Length: 4||abcd;        200
      POST chunked;                       POST /peer/b/ HTTP/1.1|Host: x|Transfer-Encoding: chunked||4|abcd|0||; 200
      HTTP/1.0 without Host;              GET /peer/b/ HTTP/1.0||;                                       200
      LF-only line ends;                  GET /peer/b/ HTTP/1.1{LF}Host: x{LF}{LF};                            200
      """)
  void eachMalformedRequestIsRefusedAndNeverReachesTheUpstream(String what, String request, int expected)
      throws Exception {
    int before = reached.get();
    String status = send(request.replace("|", "\r\n").replace("{CR}", "\r").replace("{LF}", "\n")
        .replace("{TAB}", "\t").replace("{SOH}", "\u0001"));
    assertThat(status).as(what).startsWith("HTTP/1.1 " + expected + " ");
    if (expected == 200) {
      assertThat(reached.get()).as(what).isEqualTo(before + 1);
    } else {
      assertThat(reached.get()).as("%s reached the upstream", what).isEqualTo(before);
    }
  }

  /**
   * A chunked body whose size line breaks RFC 9112 section 7.1: the head may already be upstream
   * (bodies stream), but the body never completes there, and the client gets 400.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', textBlock = """
      a negative size;               -1
      a size with a plus sign;       +4
      a size with 0x;                0x4
      sixteen hex digits;            0000000000000004
      a size that is not hex;        4g
      an empty size line;            {EMPTY}
      a size then a space and more;  4 4
      """)
  void aBadChunkSizeNeverCompletesABodyUpstream(String what, String size) throws Exception {
    int before = bodiesRead.get();
    String status = send("POST /peer/b/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size.replace("{EMPTY}", "") + "\r\nabcd\r\n0\r\n\r\n");
    assertThat(status).as(what).startsWith("HTTP/1.1 400 ");
    Thread.sleep(100); // an upstream that got a whole body would have counted it by now
    assertThat(bodiesRead.get()).as("%s: a body reached the upstream whole", what).isEqualTo(before);
  }

  /** Sends one request on a fresh connection and returns the status line of the answer. */
  private String send(String request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
        line.write(b);
      }
      return line.toString(StandardCharsets.ISO_8859_1).trim();
    }
  }
}
