package dev.portalgateway.host.http1;

import dev.portalgateway.api.Headers;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Reads a response head (status line and fields) byte by byte from a buffered stream. Keeps its
 * progress across read timeouts, so the caller can decide to keep waiting.
 */
final class ResponseHead {
  static final int MAX_HEAD_BYTES = 64 * 1024;

  private final StringBuilder line = new StringBuilder(128);
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
    while (!done) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException(started ? "the upstream closed the connection in the middle of the response head"
            : "the upstream closed the connection without answering");
      }
      started = true;
      if (++total > MAX_HEAD_BYTES) {
        throw new Http1Exception(Http1Exception.Kind.PROTOCOL,
            "the upstream's response head is larger than " + MAX_HEAD_BYTES + " bytes", null);
      }
      if (b == '\n') {
        int len = line.length();
        if (len > 0 && line.charAt(len - 1) == '\r') {
          line.setLength(len - 1);
        }
        endLine();
      } else {
        if (!line.isEmpty() && line.charAt(line.length() - 1) == '\r') {
          throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent a bare CR in its response head", null);
        }
        line.append((char) b);
      }
    }
  }

  private void endLine() throws Http1Exception {
    String text = line.toString();
    line.setLength(0);
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
    try {
      status = Integer.parseInt(text.substring(9, 12));
    } catch (NumberFormatException e) {
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid status line", null);
    }
    if (status < 100 || status > 999) {
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
