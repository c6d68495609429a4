package dev.portalgateway.host.http1;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** The three ways an HTTP/1.1 response body is framed (RFC 9112 §6.3). */
final class BodyStreams {
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
  static final class Fixed extends Framed {
    private final InputStream in;
    private long remaining;

    Fixed(InputStream in, long length) {
      this.in = in;
      this.remaining = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining == 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new EOFException("the upstream closed the connection " + remaining + " bytes before the end of the body");
      }
      remaining -= n;
      return n;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(in.available(), remaining);
    }

    boolean complete() {
      return remaining == 0;
    }
  }

  /** {@code Transfer-Encoding: chunked}: size lines, data, a zero chunk and optional trailers. */
  static final class Chunked extends Framed {
    private final InputStream in;
    private long remaining;
    private boolean eof;

    Chunked(InputStream in) {
      this.in = in;
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
        throw new EOFException("the upstream closed the connection in the middle of a chunk");
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

    boolean complete() {
      return eof;
    }

    private long readSize() throws IOException {
      String line = readLine();
      int semi = line.indexOf(';');
      String hex = (semi < 0 ? line : line.substring(0, semi)).trim();
      if (hex.isEmpty() || hex.length() > 15) {
        throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid chunk size", null);
      }
      try {
        return Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid chunk size", null);
      }
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
          throw new EOFException("the upstream closed the connection in the middle of a chunked body");
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
