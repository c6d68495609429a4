package dev.portalgateway.host.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Headers;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The response head parser, both over a connection's {@link ConnectionInput} (a line per read)
 * and over any other stream (a byte per read): the same heads, the same refusals, and never a
 * byte of the body consumed.
 */
class ResponseHeadTest {
  private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
      + "X-Empty:\r\nX-Spaced:   padded value  \r\n\r\n";

  /** {@code connection}: through a ConnectionInput; {@code plain}: byte by byte from a plain stream. */
  private static InputStream input(String kind, InputStream source) {
    return kind.equals("connection") ? new ConnectionInput(source, 16 * 1024) : source;
  }

  private static InputStream bytes(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void readsTheHeadAndLeavesTheBody(String kind) throws IOException {
    InputStream in = input(kind, bytes(HEAD + "body"));
    ResponseHead head = new ResponseHead();

    head.read(in);

    assertThat(head.status).isEqualTo(200);
    assertThat(head.reason).isEqualTo("OK");
    assertThat(head.http10).isFalse();
    assertThat(head.headers()).isEqualTo(Headers.of("Content-Type", "text/plain", "Content-Length", "4",
        "X-Empty", "", "X-Spaced", "padded value"));
    assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("body");
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void readsAHeadThatArrivesInPiecesAndAfterTimeouts(String kind) throws IOException {
    // Three bytes per read, and a read timeout after each piece: the caller calls read again.
    Deque<Object> script = new ArrayDeque<>();
    byte[] all = (HEAD + "body").getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < all.length; i += 3) {
      script.add(java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + 3)));
      script.add(new SocketTimeoutException("read timed out"));
    }
    InputStream in = input(kind, new ScriptedStream(script));
    ResponseHead head = new ResponseHead();

    int timeouts = 0;
    while (true) {
      try {
        head.read(in);
        break;
      } catch (SocketTimeoutException e) {
        timeouts++;
      }
    }

    assertThat(timeouts).isGreaterThan(10);
    assertThat(head.status).isEqualTo(200);
    assertThat(head.headers().first("X-Spaced")).isEqualTo("padded value");
    StringBuilder body = new StringBuilder();
    while (body.length() < 4) {
      try {
        int b = in.read();
        if (b < 0) {
          break;
        }
        body.append((char) b);
      } catch (SocketTimeoutException e) {
        // the next piece follows
      }
    }
    assertThat(body).hasToString("body");
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void acceptsBareLfAStrayBlankLineAndLatin1(String kind) throws IOException {
    InputStream in = input(kind, bytes("\r\nHTTP/1.0 404 Not Found\nX-Name: caf\u00e9\n\nrest"));
    ResponseHead head = new ResponseHead();

    head.read(in);

    assertThat(head.status).isEqualTo(404);
    assertThat(head.reason).isEqualTo("Not Found");
    assertThat(head.http10).isTrue();
    assertThat(head.headers().first("X-Name")).isEqualTo("caf\u00e9");
    assertThat(in.read()).isEqualTo('r');
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void refusesABareCr(String kind) {
    InputStream in = input(kind, bytes("HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\n\r\n"));

    assertThatThrownBy(() -> new ResponseHead().read(in)).isInstanceOf(Http1Exception.class)
        .hasMessageContaining("bare CR");
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void refusesAHeadOverTheLimit(String kind) {
    String big = "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(ResponseHead.MAX_HEAD_BYTES) + "\r\n\r\n";
    InputStream in = input(kind, bytes(big));

    assertThatThrownBy(() -> new ResponseHead().read(in)).isInstanceOf(Http1Exception.class)
        .hasMessageContaining("larger than " + ResponseHead.MAX_HEAD_BYTES);
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void refusesMalformedLines(String kind) {
    assertThatThrownBy(() -> new ResponseHead().read(input(kind, bytes("HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n"))))
        .isInstanceOf(Http1Exception.class).hasMessageContaining("malformed header line");
    assertThatThrownBy(() -> new ResponseHead().read(input(kind, bytes("SSH-2.0-OpenSSH\r\n\r\n"))))
        .isInstanceOf(Http1Exception.class).hasMessageContaining("did not answer with HTTP/1.x");
  }

  /** Found by Http1FuzzTest.responseHead: a status code is three digits and then SP or the line's end. */
  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void aStatusCodeIsExactlyThreeDigits(String kind) throws IOException {
    for (String line : new String[] {"HTTP/1.1 200\u0000\u0000 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 1000", "HTTP/1.1 +20 x",
        "HTTP/1.1 20 OK", "HTTP/1.1 099 Low", "HTTP/1.1 2\t0 OK"}) {
      assertThatThrownBy(() -> new ResponseHead().read(input(kind, bytes(line + "\r\n\r\n"))))
          .as(line).isInstanceOf(Http1Exception.class);
    }
    ResponseHead bare = new ResponseHead();
    bare.read(input(kind, bytes("HTTP/1.1 204\r\n\r\n")));
    assertThat(bare.status).isEqualTo(204);
    assertThat(bare.reason).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "plain"})
  void saysWhetherTheUpstreamAnsweredAtAllBeforeClosing(String kind) {
    ResponseHead silent = new ResponseHead();
    assertThatThrownBy(() -> silent.read(input(kind, bytes("")))).isInstanceOf(EOFException.class)
        .hasMessageContaining("without answering");
    assertThat(silent.started()).isFalse();

    ResponseHead cut = new ResponseHead();
    assertThatThrownBy(() -> cut.read(input(kind, bytes("HTTP/1.1 200 OK\r\nContent-")))).isInstanceOf(EOFException.class)
        .hasMessageContaining("in the middle of the response head");
    assertThat(cut.started()).isTrue();
  }

  /** Hands out byte pieces and throws the exceptions in between, in order; then the end. */
  private static final class ScriptedStream extends InputStream {
    private final Deque<Object> script;
    private byte[] piece = new byte[0];
    private int position;

    ScriptedStream(Deque<Object> script) {
      this.script = script;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (position == piece.length) {
        Object next = script.poll();
        if (next == null) {
          return -1;
        }
        if (next instanceof IOException e) {
          throw e;
        }
        piece = (byte[]) next;
        position = 0;
      }
      int n = Math.min(len, piece.length - position);
      System.arraycopy(piece, position, b, off, n);
      position += n;
      return n;
    }
  }
}
