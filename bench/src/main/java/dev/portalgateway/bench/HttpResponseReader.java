package dev.portalgateway.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;

/**
 * Reads HTTP/1.1 responses off one keep-alive connection, body included, so that the next
 * response starts where this one ended. It works on byte offsets in its own buffer and allocates
 * nothing per response: the load generator shares the CPU with the server it measures, and every
 * cycle it spends parsing is one the server does not get.
 *
 * <p>Bodies are counted and thrown away. Framing follows RFC 9112 §6.3: no body for 1xx, 204 and
 * 304; chunked when {@code Transfer-Encoding} says so; else {@code Content-Length}; else the body
 * runs to the end of the connection.
 */
final class HttpResponseReader {
  private static final int MAX_HEAD_LINE = 16 * 1024;

  private final InputStream in;
  private final byte[] buf = new byte[32 * 1024];
  private int pos;
  private int limit;
  /** The current line, without its CR LF: {@code buf[lineStart, lineEnd)}. */
  private int lineStart;
  private int lineEnd;

  HttpResponseReader(InputStream in) {
    this.in = in;
  }

  /**
   * One parsed response.
   *
   * @param status the status code
   * @param bodyBytes the body's length as received (after de-chunking)
   * @param closeAfter whether the server ends the connection after it, so the next request needs a new one
   */
  record Response(int status, long bodyBytes, boolean closeAfter) {}

  /** Thrown when the server closed the connection before sending anything of the next response. */
  static final class ClosedBeforeResponseException extends EOFException {
    ClosedBeforeResponseException() {
      super("connection closed before the response head");
    }
  }

  /**
   * @return the next final (non-1xx) response, read to its end
   * @throws ClosedBeforeResponseException when the connection ended cleanly before any byte of it
   * @throws IOException when the connection failed or the response is malformed or cut short
   */
  Response read() throws IOException {
    while (true) {
      if (pos == limit && !fill()) {
        throw new ClosedBeforeResponseException();
      }
      int status = readStatusLine();
      // HTTP/1.0 connections close after each response unless the server says keep-alive.
      boolean http10 = buf[lineStart + 7] == '0';
      long contentLength = -1;
      boolean chunked = false;
      boolean close = http10;
      while (true) {
        if (!readLine()) {
          throw new EOFException("connection closed inside the response head");
        }
        if (lineEnd == lineStart) {
          break;
        }
        int colon = indexOf(':', lineStart, lineEnd);
        if (colon < 0) {
          throw new ProtocolException("header line without a colon: " + line());
        }
        if (nameIs("content-length", colon)) {
          contentLength = parseDecimal(colon + 1, lineEnd);
        } else if (nameIs("transfer-encoding", colon)) {
          chunked = containsIgnoreCase("chunked", colon + 1, lineEnd);
        } else if (nameIs("connection", colon)) {
          close = http10
              ? !containsIgnoreCase("keep-alive", colon + 1, lineEnd)
              : containsIgnoreCase("close", colon + 1, lineEnd);
        }
      }
      if (status >= 100 && status < 200) {
        continue; // an interim response; the final one follows on the same connection
      }
      if (status == 204 || status == 304) {
        return new Response(status, 0, close);
      }
      if (chunked) {
        return new Response(status, skipChunkedBody(), close);
      }
      if (contentLength >= 0) {
        skipExactly(contentLength);
        return new Response(status, contentLength, close);
      }
      return new Response(status, skipToEnd(), true);
    }
  }

  private int readStatusLine() throws IOException {
    if (!readLine()) {
      throw new EOFException("connection closed inside the status line");
    }
    // "HTTP/1.1 200 OK": the code sits at fixed offsets 9..11.
    if (lineEnd - lineStart < 12 || !startsWith("HTTP/1.") || buf[lineStart + 8] != ' ') {
      throw new ProtocolException("not an HTTP/1.x status line: " + line());
    }
    int status = (int) parseDecimal(lineStart + 9, lineStart + 12);
    if (status < 100) {
      throw new ProtocolException("bad status code in: " + line());
    }
    return status;
  }

  private long skipChunkedBody() throws IOException {
    long total = 0;
    while (true) {
      if (!readLine()) {
        throw new EOFException("connection closed before a chunk size");
      }
      int end = indexOf(';', lineStart, lineEnd);
      long size = parseHex(lineStart, end < 0 ? lineEnd : end);
      if (size == 0) {
        // Trailer fields, if any, then the blank line that ends the message.
        while (true) {
          if (!readLine()) {
            throw new EOFException("connection closed inside the trailers");
          }
          if (lineEnd == lineStart) {
            return total;
          }
        }
      }
      skipExactly(size);
      total += size;
      if (!readLine() || lineEnd != lineStart) {
        throw new ProtocolException("chunk data not followed by CRLF");
      }
    }
  }

  private void skipExactly(long n) throws IOException {
    long left = n;
    while (left > 0) {
      if (pos == limit) {
        pos = 0;
        limit = 0;
        if (!fill()) {
          throw new EOFException("connection closed with " + left + " body bytes still to come");
        }
      }
      int take = (int) Math.min(left, limit - pos);
      pos += take;
      left -= take;
    }
  }

  private long skipToEnd() throws IOException {
    long total = limit - pos;
    pos = limit;
    int n;
    while ((n = in.read(buf)) >= 0) {
      total += n;
    }
    pos = 0;
    limit = 0;
    return total;
  }

  /** @return false when the connection ended before any byte of a new line */
  private boolean readLine() throws IOException {
    int scanned = 0;
    while (true) {
      for (int i = pos + scanned; i < limit; i++) {
        if (buf[i] == '\n') {
          lineStart = pos;
          lineEnd = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
          pos = i + 1;
          return true;
        }
      }
      scanned = limit - pos;
      if (scanned >= MAX_HEAD_LINE) {
        throw new ProtocolException("a response head line is longer than " + MAX_HEAD_LINE + " bytes");
      }
      if (!fill()) {
        if (scanned == 0) {
          return false;
        }
        throw new EOFException("connection closed inside a line");
      }
    }
  }

  /** Reads more bytes after the unconsumed ones, moving those to the front first. */
  private boolean fill() throws IOException {
    if (pos > 0) {
      System.arraycopy(buf, pos, buf, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    int n = in.read(buf, limit, buf.length - limit);
    if (n < 0) {
      return false;
    }
    limit += n;
    return true;
  }

  private boolean nameIs(String lowerName, int colon) {
    if (colon - lineStart != lowerName.length()) {
      return false;
    }
    for (int i = 0; i < lowerName.length(); i++) {
      if (toLower(buf[lineStart + i]) != lowerName.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private boolean containsIgnoreCase(String lowerWord, int from, int to) {
    outer:
    for (int i = from; i <= to - lowerWord.length(); i++) {
      for (int j = 0; j < lowerWord.length(); j++) {
        if (toLower(buf[i + j]) != lowerWord.charAt(j)) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private boolean startsWith(String prefix) {
    for (int i = 0; i < prefix.length(); i++) {
      if (buf[lineStart + i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private int indexOf(char c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (buf[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private long parseDecimal(int from, int to) throws ProtocolException {
    long n = 0;
    int digits = 0;
    for (int i = from; i < to; i++) {
      byte b = buf[i];
      if (b == ' ' || b == '\t') {
        if (digits > 0) {
          break;
        }
        continue;
      }
      if (b < '0' || b > '9' || digits == 18) {
        throw new ProtocolException("not a decimal number in: " + line());
      }
      n = n * 10 + (b - '0');
      digits++;
    }
    if (digits == 0) {
      throw new ProtocolException("missing number in: " + line());
    }
    return n;
  }

  private long parseHex(int from, int to) throws ProtocolException {
    long n = 0;
    int digits = 0;
    for (int i = from; i < to; i++) {
      int d = Character.digit(buf[i], 16);
      if (d < 0) {
        if ((buf[i] == ' ' || buf[i] == '\t') && digits > 0) {
          break;
        }
        throw new ProtocolException("bad chunk size line: " + line());
      }
      if (digits == 15) {
        throw new ProtocolException("chunk size too large: " + line());
      }
      n = n * 16 + d;
      digits++;
    }
    if (digits == 0) {
      throw new ProtocolException("empty chunk size line");
    }
    return n;
  }

  private static int toLower(byte b) {
    return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
  }

  private String line() {
    return new String(buf, lineStart, Math.min(lineEnd - lineStart, 200), StandardCharsets.ISO_8859_1);
  }
}
