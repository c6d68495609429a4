package dev.portalgateway.host.http1;

import dev.portalgateway.api.Headers;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads a response head (status line and fields) from a buffered stream, a line at a time from a
 * {@link ConnectionInput} and a byte at a time from any other stream, never past the head's end.
 * Keeps its progress across read timeouts, so the caller can decide to keep waiting.
 */
final class ResponseHead {
  static final int MAX_HEAD_BYTES = 64 * 1024;

  /** The current line so far, as bytes; a line is ISO-8859-1 text (RFC 9112 §5.5). */
  private byte[] line = new byte[128];
  private int lineLength;
  private final Headers.Builder headers = Headers.builder();
  private String statusLine;
  private int total;
  private boolean started;
  private boolean done;

  int status;
  String reason;
  boolean http10;

  /** @return whether any byte of the head has arrived */
  boolean started() {
    return started;
  }

  /**
   * Reads until the head is complete.
   *
   * @throws SocketTimeoutException when a read times out; call again to keep waiting
   * @throws EOFException when the stream ends first
   */
  void read(InputStream in) throws IOException {
    ConnectionInput lines = in instanceof ConnectionInput c ? c : null;
    while (!done) {
      if (lineLength == line.length) {
        line = Arrays.copyOf(line, Math.min(line.length * 2, MAX_HEAD_BYTES + 1));
      }
      int n;
      if (lines != null) {
        n = lines.readLine(line, lineLength, line.length - lineLength); // stops after an LF
      } else {
        int b = in.read();
        if (b >= 0) {
          line[lineLength] = (byte) b;
        }
        n = b < 0 ? -1 : 1;
      }
      if (n < 0) {
        throw new EOFException(started ? "the upstream closed the connection in the middle of the response head"
            : "the upstream closed the connection without answering");
      }
      started = true;
      int end = lineLength + n;
      for (int i = lineLength; i < end; i++) {
        if (++total > MAX_HEAD_BYTES) {
          throw new Http1Exception(Http1Exception.Kind.PROTOCOL,
              "the upstream's response head is larger than " + MAX_HEAD_BYTES + " bytes", null);
        }
        if (line[i] == '\n') {
          // Only ever the last byte copied: the line ends here.
          endLine(i > 0 && line[i - 1] == '\r' ? i - 1 : i);
          lineLength = 0;
          break;
        }
        if (i > 0 && line[i - 1] == '\r') {
          throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent a bare CR in its response head", null);
        }
        lineLength = i + 1;
      }
    }
  }

  private void endLine(int length) throws Http1Exception {
    String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
    if (statusLine == null) {
      if (text.isEmpty()) {
        return; // tolerate a stray blank line before the status line (RFC 9112 §2.2)
      }
      parseStatusLine(text);
      statusLine = text;
      return;
    }
    if (text.isEmpty()) {
      done = true;
      return;
    }
    int colon = text.indexOf(':');
    if (colon <= 0 || text.charAt(colon - 1) == ' ' || text.charAt(colon - 1) == '\t') {
      // Includes "Name : value" (RFC 9112 §5.1: must be rejected) and obsolete line folding.
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent a malformed header line", null);
    }
    try {
      headers.add(text.substring(0, colon), text.substring(colon + 1).trim());
    } catch (IllegalArgumentException e) {
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid header field", e);
    }
  }

  private void parseStatusLine(String text) throws Http1Exception {
    // HTTP/1.1 200 OK
    if (!(text.startsWith("HTTP/1.1 ") || text.startsWith("HTTP/1.0 ")) || text.length() < 12) {
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream did not answer with HTTP/1.x: '"
          + text.substring(0, Math.min(40, text.length())) + "'", null);
    }
    http10 = text.charAt(7) == '0';
    // RFC 9112 section 4: exactly three digits, then SP (or the line's end, which servers send when
    // they leave the reason out). Http1FuzzTest found "HTTP/1.1 200\0..." read as 200; so was
    // "HTTP/1.1 1000" read as an interim 100.
    for (int i = 9; i < 12; i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > '9') {
        throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid status line", null);
      }
    }
    if (text.length() > 12 && text.charAt(12) != ' ') {
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid status line", null);
    }
    status = Integer.parseInt(text.substring(9, 12));
    if (status < 100) {
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent status " + status, null);
    }
    reason = text.length() > 13 ? text.substring(13) : "";
  }

  Headers headers() {
    return headers.build();
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
