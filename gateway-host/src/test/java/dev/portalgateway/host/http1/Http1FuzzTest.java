package dev.portalgateway.host.http1;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Fuzz targets for the HTTP/1.1 codec the gateway reads upstream responses and client request
 * bodies with: {@link ResponseHead} and the chunked decoder, {@link BodyStreams.Chunked}. The
 * first byte of an input picks the socket read size; the rest is what the peer sent. Replayed on
 * {@code src/test/resources/dev/portalgateway/host/http1/Http1FuzzTestInputs/<method>/} by every
 * test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class Http1FuzzTest {

  /**
   * A response head: a status line {@code HTTP/1.x} with a three-digit status code (RFC 9112
   * §4) and well-formed fields, or {@link Http1Exception} (protocol) or {@link EOFException};
   * the same result read a line at a time from a {@link ConnectionInput} as byte by byte from any
   * other stream, and never a byte read past the head.
   */
  @FuzzTest
  void responseHead(byte[] input) throws IOException {
    if (input.length < 2) {
      return;
    }
    int piece = 1 + (input[0] & 0x3F);
    String lines = readHead(new ConnectionInput(new PiecesInputStream(input, 1, piece), 16 + (input[0] & 0xFF)), input);
    String bytes = readHead(new PiecesInputStream(input, 1, piece), input);
    assertThat(lines).isEqualTo(bytes);
  }

  private static String readHead(InputStream in, byte[] input) throws IOException {
    ResponseHead head = new ResponseHead();
    try {
      head.read(in);
    } catch (Http1Exception e) {
      assertThat(e.kind()).isEqualTo(Http1Exception.Kind.PROTOCOL);
      return "refused " + e.getMessage();
    } catch (EOFException e) {
      return "eof";
    }
    byte[] rest = in.readAllBytes();
    int consumed = input.length - 1 - rest.length;
    assertThat(consumed).isLessThanOrEqualTo(ResponseHead.MAX_HEAD_BYTES);
    assertThat(input[consumed]).as("a head ends with an empty line").isEqualTo((byte) '\n');
    String text = new String(input, 1, consumed, StandardCharsets.ISO_8859_1);
    String statusLine = text.substring(text.indexOf("HTTP/1."));
    statusLine = statusLine.substring(0, statusLine.indexOf('\n'));
    if (statusLine.endsWith("\r")) {
      statusLine = statusLine.substring(0, statusLine.length() - 1);
    }
    // The reason phrase is anything up to the line's end: RFC 9112 section 4 says a client SHOULD
    // ignore it, and the gateway does (it writes its own). Spelled as a class, not ".": a regex
    // "." would not match obs-text such as 0x85, which Java reads as a line terminator.
    assertThat(statusLine).as("status line").matches("HTTP/1\\.[01] [1-9][0-9][0-9]( [^\\r\\n]*)?");
    assertThat(head.status).isEqualTo(Integer.parseInt(statusLine.substring(9, 12)));
    assertThat(head.http10).isEqualTo(statusLine.charAt(7) == '0');
    assertThat(head.reason).isEqualTo(statusLine.length() > 13 ? statusLine.substring(13) : "");
    return head.status + " " + head.reason + " " + head.http10 + " " + head.headers() + " then " + rest.length;
  }

  /**
   * Any bytes as a chunked body: decoded exactly as a reference reading of RFC 9112 §7.1 decodes
   * them (hex sizes of at most 15 digits, no sign, optional extensions after optional
   * whitespace, CRLF or LF line ends, trailers skipped), or refused with {@link Http1Exception}
   * or {@link EOFException} where the reference refuses; however the bytes are split, and never a
   * byte read past the body.
   */
  @FuzzTest
  void chunkedDecoder(byte[] input) throws IOException {
    if (input.length < 2) {
      return;
    }
    byte[] wire = Arrays.copyOfRange(input, 1, input.length);
    Reference expected = Reference.decode(wire);
    for (int piece : new int[] {1 + (input[0] & 0x3F), 4096}) {
      InputStream raw = new ConnectionInput(new PiecesInputStream(wire, 0, piece), 64);
      BodyStreams.Chunked body = new BodyStreams.Chunked(raw, "the client");
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[1 + (input[0] & 0xFF)];
      try {
        for (int n; (n = body.read(buf, 0, buf.length)) >= 0; ) {
          got.write(buf, 0, n);
        }
      } catch (Http1Exception | EOFException e) {
        assertThat(expected.error).as("refused what the reference accepts: %s", e.getMessage()).isNotNull();
        continue;
      }
      assertThat(expected.error).as("accepted what the reference refuses").isNull();
      assertThat(body.complete()).isTrue();
      assertThat(got.toByteArray()).isEqualTo(expected.data);
      assertThat(raw.readAllBytes()).as("bytes after the body").isEqualTo(Arrays.copyOfRange(wire, expected.end, wire.length));
    }
  }

  /**
   * Chunks we encode, with any sizes, extensions, hex case, leading zeros and trailers, decode to
   * exactly the data, and the bytes after the body (the next request) stay unread.
   */
  @FuzzTest
  void chunkedRoundTrip(FuzzedDataProvider data) throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    int chunks = data.consumeInt(0, 8);
    for (int i = 0; i < chunks; i++) {
      byte[] chunk = data.consumeBytes(data.consumeInt(1, 600));
      if (chunk.length == 0) {
        break;
      }
      writeSize(wire, chunk.length, data);
      wire.writeBytes(chunk);
      wire.writeBytes(data.consumeBoolean() ? "\r\n".getBytes(StandardCharsets.US_ASCII) : new byte[] {'\n'});
      plain.writeBytes(chunk);
    }
    writeSize(wire, 0, data);
    int trailers = data.consumeInt(0, 3);
    for (int i = 0; i < trailers; i++) {
      wire.writeBytes(("X-T" + i + ": " + data.consumeAsciiString(20).replaceAll("[\r\n]", "") + "\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
    }
    wire.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    byte[] next = data.consumeBytes(64);
    wire.writeBytes(next);
    InputStream raw = new ConnectionInput(new PiecesInputStream(wire.toByteArray(), 0, data.consumeInt(1, 64)), 32);
    BodyStreams.Chunked body = new BodyStreams.Chunked(raw, "the client");
    assertThat(body.readAllBytes()).isEqualTo(plain.toByteArray());
    assertThat(body.complete()).isTrue();
    assertThat(raw.readAllBytes()).isEqualTo(next);
  }

  private static void writeSize(ByteArrayOutputStream wire, int size, FuzzedDataProvider data) {
    String hex = Integer.toHexString(size);
    if (data.consumeBoolean()) {
      hex = hex.toUpperCase(java.util.Locale.ROOT);
    }
    hex = "0".repeat(data.consumeInt(0, 15 - hex.length())) + hex;
    String ext = switch (data.consumeInt(0, 3)) {
      case 0 -> "";
      case 1 -> ";name";
      case 2 -> " \t;name=value";
      default -> ";q=\"quoted ; value\"";
    };
    wire.writeBytes((hex + ext + (data.consumeBoolean() ? "\r\n" : "\n")).getBytes(StandardCharsets.US_ASCII));
  }

  /** RFC 9112 §7.1 read independently, with the leniencies BodyStreams documents (LF alone ends a line). */
  private static final class Reference {
    byte[] data;
    String error;
    int end;

    static Reference decode(byte[] wire) {
      Reference r = new Reference();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int[] pos = {0};
      try {
        while (true) {
          String line = line(wire, pos);
          int semi = line.indexOf(';');
          String size = (semi < 0 ? line : line.substring(0, semi)).replaceAll("[ \t]+$", "");
          if (!size.matches("[0-9A-Fa-f]{1,15}")) {
            throw new IOException("bad size line " + HexFormat.of().formatHex(line.getBytes(StandardCharsets.ISO_8859_1)));
          }
          long n = Long.parseLong(size, 16);
          if (n == 0) {
            while (!line(wire, pos).isEmpty()) {
              // trailers
            }
            break;
          }
          if (wire.length - pos[0] < n) {
            throw new IOException("cut chunk");
          }
          out.write(wire, pos[0], (int) n);
          pos[0] += (int) n;
          if (!line(wire, pos).isEmpty()) {
            throw new IOException("chunk without CRLF");
          }
        }
      } catch (IOException e) {
        r.error = e.getMessage();
        return r;
      }
      r.data = out.toByteArray();
      r.end = pos[0];
      return r;
    }

    /** A line without its LF and the one CR before it; at most 4097 characters. */
    private static String line(byte[] wire, int[] pos) throws IOException {
      int start = pos[0];
      for (int i = start; i < wire.length; i++) {
        if (wire[i] == '\n') {
          pos[0] = i + 1;
          int end = i > start && wire[i - 1] == '\r' ? i - 1 : i;
          return new String(wire, start, end - start, StandardCharsets.ISO_8859_1);
        }
        if (i - start > 4096) {
          throw new IOException("long line");
        }
      }
      throw new IOException("eof");
    }
  }
}
