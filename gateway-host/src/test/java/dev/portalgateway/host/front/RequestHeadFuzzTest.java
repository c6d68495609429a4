package dev.portalgateway.host.front;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.portalgateway.host.http1.BodyStreams;
import dev.portalgateway.host.http1.ConnectionInput;
import dev.portalgateway.host.http1.Http1Exception;
import dev.portalgateway.host.http1.PiecesInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Fuzz targets for the front server's request parsing: {@link RequestHead} over a
 * {@link ConnectionInput}, and whole keep-alive connections (heads, then bodies framed by
 * {@link BodyStreams} as {@link FrontExchange} frames them). The first byte of an input picks the
 * socket read size and the head size limit; the rest is what a client sent. Replayed on
 * {@code src/test/resources/dev/portalgateway/host/front/RequestHeadFuzzTestInputs/<method>/} by
 * every test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class RequestHeadFuzzTest {
  private static final String TCHARS = "!#$%&'*+-.^_`|~";

  /**
   * One request head: parsed into a head that keeps the promises of RequestHead's documentation,
   * or refused with {@link BadRequestException} (400, 431, 505), or {@link EOFException} for a
   * client that hung up; the same outcome however the bytes arrive, and never a byte read past
   * the head.
   */
  @FuzzTest
  void requestHead(byte[] input) throws IOException {
    if (input.length < 2) {
      return;
    }
    int maxBytes = 256 + (input[0] & 0x0F) * 64;
    String one = parseOne(input, maxBytes, 1 + ((input[0] >> 4) & 0x0F), 1024);
    String whole = parseOne(input, maxBytes, 8192, 8192);
    assertThat(one).as("the outcome depends on how the bytes were split").isEqualTo(whole);
  }

  /**
   * A keep-alive connection: up to four requests, each head followed by its body, read as the
   * front server reads them. Every outcome is a declared exception or a sequence of requests and
   * bodies that does not depend on how the bytes arrived: where one request ends and the next
   * begins is decided by the bytes alone.
   */
  @FuzzTest
  void requestWithBody(byte[] input) throws IOException {
    if (input.length < 2) {
      return;
    }
    int maxBytes = 256 + (input[0] & 0x0F) * 64;
    String one = parseConnection(input, maxBytes, 1 + ((input[0] >> 4) & 0x0F), 1024);
    String whole = parseConnection(input, maxBytes, 8192, 8192);
    assertThat(one).as("the requests depend on how the bytes were split").isEqualTo(whole);
  }

  /** @return a description of the outcome: the head and what followed it, or the refusal */
  private static String parseOne(byte[] input, int maxBytes, int piece, int bufferSize) throws IOException {
    ConnectionInput in = new ConnectionInput(new PiecesInputStream(input, 1, piece), bufferSize);
    int first = in.read();
    RequestHead head;
    try {
      head = RequestHead.read(in, maxBytes, first);
    } catch (BadRequestException e) {
      assertThat(e.status()).isIn(400, 431, 505);
      return "refused " + e.status() + " " + e.getMessage();
    } catch (EOFException e) {
      return "eof";
    }
    byte[] rest = in.readAllBytes();
    int consumed = input.length - 1 - rest.length;
    assertThat(consumed).as("head bytes").isLessThanOrEqualTo(maxBytes);
    assertThat(input[consumed]).as("a head ends with an empty line").isEqualTo((byte) '\n');
    checkHead(head);
    return describe(head) + " then " + rest.length + " bytes";
  }

  private static String parseConnection(byte[] input, int maxBytes, int piece, int bufferSize) throws IOException {
    ConnectionInput in = new ConnectionInput(new PiecesInputStream(input, 1, piece), bufferSize);
    StringBuilder outcome = new StringBuilder();
    for (int request = 0; request < 4; request++) {
      int first = in.read();
      if (first < 0) {
        return outcome.append("closed").toString();
      }
      RequestHead head;
      try {
        head = RequestHead.read(in, maxBytes, first);
      } catch (BadRequestException e) {
        assertThat(e.status()).isIn(400, 431, 505);
        return outcome.append("refused ").append(e.status()).toString();
      } catch (EOFException e) {
        return outcome.append("eof in head").toString();
      }
      checkHead(head);
      outcome.append(describe(head));
      InputStream body = head.chunked() ? new BodyStreams.Chunked(in, "the client")
          : head.contentLength() > 0 ? new BodyStreams.Fixed(in, head.contentLength(), "the client")
          : InputStream.nullInputStream();
      byte[] bytes;
      try {
        bytes = body.readNBytes(1 << 16);
      } catch (Http1Exception e) {
        return outcome.append(" bad body").toString();
      } catch (EOFException e) {
        return outcome.append(" eof in body").toString();
      }
      if (bytes.length == 1 << 16 && body.read() >= 0) {
        return outcome.append(" long body").toString();
      }
      if (!head.chunked() && head.contentLength() > 0) {
        assertThat((long) bytes.length).isEqualTo(head.contentLength());
      }
      outcome.append(" body ").append(java.util.Arrays.hashCode(bytes)).append('/').append(bytes.length).append("; ");
      if (!head.keepAlive()) {
        return outcome.append("close").toString();
      }
    }
    return outcome.toString();
  }

  /** The promises of {@link RequestHead}'s documentation, for a head it accepted. */
  private static void checkHead(RequestHead head) {
    assertThat(isToken(head.method())).as("method %s", head.method()).isTrue();
    assertThat(head.version()).isIn("HTTP/1.1", "HTTP/1.0");
    for (int i = 0; i < head.target().length(); i++) {
      char c = head.target().charAt(i);
      assertThat(c > 0x20 && c < 0x7F).as("target character %s", (int) c).isTrue();
    }
    assertThat(head.uri()).isNotNull();
    List<String> hosts = head.headers().all("Host");
    assertThat(hosts.size()).isLessThanOrEqualTo(1);
    if (head.version().equals("HTTP/1.1")) {
      assertThat(hosts).as("HTTP/1.1 without Host").isNotEmpty();
    }
    List<String> lengths = head.headers().all("content-length");
    List<String> codings = head.headers().all("TRANSFER-ENCODING");
    assertThat(!lengths.isEmpty() && !codings.isEmpty()).as("both Content-Length and Transfer-Encoding").isFalse();
    if (head.chunked()) {
      assertThat(codings).containsExactly(codings.get(0));
      assertThat(codings.get(0)).isEqualToIgnoringCase("chunked");
      assertThat(head.version()).isEqualTo("HTTP/1.1");
      assertThat(head.contentLength()).isEqualTo(-1);
    } else if (!lengths.isEmpty()) {
      assertThat(lengths).hasSize(1);
      assertThat(lengths.get(0)).matches("[0-9]{1,18}");
      assertThat(head.contentLength()).isEqualTo(Long.parseLong(lengths.get(0)));
    } else {
      assertThat(head.contentLength()).isZero();
    }
    for (int f = 0; f < head.headers().size(); f++) {
      String name = head.headers().name(f);
      String value = head.headers().value(f);
      assertThat(isToken(name)).as("field name %s", name).isTrue();
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        assertThat((c >= 0x20 || c == '\t') && c != 0x7F).as("value character %s", (int) c).isTrue();
      }
      assertThat(value).doesNotStartWith(" ").doesNotStartWith("\t").doesNotEndWith(" ").doesNotEndWith("\t");
    }
    // The JDK API's view holds the same fields, by normalised name.
    com.sun.net.httpserver.Headers jdk = head.jdkHeaders();
    assertThat(jdk.values().stream().mapToInt(List::size).sum()).isEqualTo(head.headers().size());
    if (head.http10()) {
      assertThat(head.keepAlive()).isFalse();
    }
  }

  private static String describe(RequestHead head) {
    Map<String, List<String>> fields = new TreeMap<>(head.jdkHeaders());
    List<String> parts = new ArrayList<>();
    fields.forEach((k, v) -> parts.add(k + "=" + v));
    return head.method() + " " + head.target() + " " + head.version() + " " + parts + " length=" + head.contentLength()
        + " keepAlive=" + head.keepAlive();
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || TCHARS.indexOf(c) >= 0)) {
        return false;
      }
    }
    return true;
  }
}
