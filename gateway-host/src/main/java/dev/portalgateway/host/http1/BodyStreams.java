package dev.portalgateway.host.http1;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * How an HTTP/1.1 body is framed (RFC 9112 §6.3): by length or chunked. The gateway reads response
 * bodies from upstreams and request bodies from clients with these, so both are parsed by the same
 * strict rules; {@code peer} names the other side in messages.
 */
public final class BodyStreams {
  private BodyStreams() {}

  /** Single bytes through the array read, where the framing logic lives. */
  private abstract static class Framed extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }
  }

  /** Exactly {@code length} bytes. */
  public static final class Fixed extends Framed {
    private final InputStream in;
    private final String peer;
    private long remaining;

    Fixed(InputStream in, long length) {
      this(in, length, "the upstream");
    }

    /** @param peer the other side, for messages, such as {@code "the client"} */
    public Fixed(InputStream in, long length, String peer) {
      this.in = in;
      this.remaining = length;
      this.peer = peer;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining == 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new EOFException(peer + " closed the connection " + remaining + " bytes before the end of the body");
      }
      remaining -= n;
      return n;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(in.available(), remaining);
    }

    /** @return whether the whole body has been read */
    public boolean complete() {
      return remaining == 0;
    }
  }

  /** {@code Transfer-Encoding: chunked}: size lines, data, a zero chunk and optional trailers. */
  public static final class Chunked extends Framed {
    private final InputStream in;
    private final String peer;
    private long remaining;
    private boolean eof;

    Chunked(InputStream in) {
      this(in, "the upstream");
    }

    /** @param peer the other side, for messages, such as {@code "the client"} */
    public Chunked(InputStream in, String peer) {
      this.in = in;
      this.peer = peer;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (eof) {
        return -1;
      }
      if (remaining == 0) {
        remaining = readSize();
        if (remaining == 0) {
          skipTrailers();
          eof = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new EOFException(peer + " closed the connection in the middle of a chunk");
      }
      remaining -= n;
      if (remaining == 0) {
        expectCrlf();
      }
      return n;
    }

    @Override
    public int available() throws IOException {
      return eof ? 0 : (int) Math.min(in.available(), remaining);
    }

    /** @return whether the last chunk and the trailers have been read */
    public boolean complete() {
      return eof;
    }

    /**
     * RFC 9112 §7.1: {@code chunk-size = 1*HEXDIG}, then optional whitespace before extensions.
     * Parsed strictly, by hand: {@code Long.parseLong} would take a sign ({@code -1}, {@code +5}),
     * and a server that disagrees with us on where a chunk ends is how responses get smuggled.
     * At most 15 digits, so the size cannot overflow.
     */
    private long readSize() throws IOException {
      String line = readLine();
      int semi = line.indexOf(';');
      int end = semi < 0 ? line.length() : semi;
      while (end > 0 && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == '\t')) {
        end--; // whitespace before a chunk extension
      }
      if (end == 0 || end > 15) {
        throw invalidSize(line);
      }
      long size = 0;
      for (int i = 0; i < end; i++) {
        int digit = Character.digit(line.charAt(i), 16);
        if (digit < 0 || line.charAt(i) > 'f') {
          throw invalidSize(line);
        }
        size = size << 4 | digit;
      }
      return size;
    }

    private Http1Exception invalidSize(String line) {
      String shown = line.length() > 20 ? line.substring(0, 20) + "..." : line;
      return new Http1Exception(Http1Exception.Kind.PROTOCOL,
          peer + " sent an invalid chunk size '" + shown.replaceAll("[^\\x20-\\x7e]", "?") + "'", null);
    }

    private void expectCrlf() throws IOException {
      if (!readLine().isEmpty()) {
        throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "a chunk does not end with CRLF", null);
      }
    }

    private void skipTrailers() throws IOException {
      while (!readLine().isEmpty()) {
        // Trailer fields are dropped: nothing downstream of the gateway asked for them.
      }
    }

    private String readLine() throws IOException {
      StringBuilder sb = new StringBuilder(16);
      while (true) {
        int c = in.read();
        if (c < 0) {
          throw new EOFException(peer + " closed the connection in the middle of a chunked body");
        }
        if (c == '\n') {
          int len = sb.length();
          return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
        }
        if (sb.length() > 4096) {
          throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "a chunk header line is too long", null);
        }
        sb.append((char) c);
      }
    }
  }
}
