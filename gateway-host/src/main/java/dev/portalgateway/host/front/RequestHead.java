package dev.portalgateway.host.front;

import dev.portalgateway.api.Headers;
import dev.portalgateway.host.http1.ConnectionInput;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A request line and header fields, parsed strictly (RFC 9110, RFC 9112). The gateway stands in
 * front of services that parse requests too: wherever two parsers disagree on where a request
 * ends or what it says, a request can be smuggled past the gateway. So everything a lenient parser
 * would let through is refused with {@code 400} (or {@code 505}, {@code 431}) before any handler
 * sees it: a bare CR, obs-fold, whitespace or control characters in the target, a version other
 * than 1.0 and 1.1, a missing or repeated {@code Host} in HTTP/1.1, a {@code Content-Length} that
 * is not one run of digits, a {@code Transfer-Encoding} other than exactly {@code chunked}, both
 * of them, control characters in a field value. Line ends may be CRLF or a bare LF (RFC 9112
 * §2.2 lets a recipient accept LF); a CR is only ever accepted right before an LF.
 *
 * <p>The fields are kept as the plugin API's {@link Headers}, in the order received and spelled as
 * sent, which is what the proxy forwards; the {@code com.sun.net.httpserver} view of them is made
 * only when a handler asks for it ({@link #jdkHeaders}). Each header line is checked in one pass
 * over its bytes: a JWT of 850 bytes in {@code Authorization} is on every request of an OAuth
 * client, and going over it character by character several times (once more in the JDK's
 * {@code Headers.add}) cost more than the rest of the head together.
 *
 * @param method the method, as sent (a token)
 * @param target the request target, as sent
 * @param uri the target as a URI (origin form, or absolute form)
 * @param version {@code HTTP/1.1} or {@code HTTP/1.0}
 * @param headers the fields, in the order received, names as sent
 * @param contentLength the body's length; -1 when chunked; 0 when neither field is present
 * @param keepAlive whether the connection may carry another request after this one
 */
record RequestHead(String method, String target, URI uri, String version, Headers headers, long contentLength,
    boolean keepAlive) {
  /** Empty lines tolerated before a request line (RFC 9112 §2.2: at least one). */
  private static final int MAX_LEADING_EMPTY_LINES = 4;

  boolean chunked() {
    return contentLength < 0;
  }

  boolean http10() {
    return version.equals("HTTP/1.0");
  }

  /**
   * Reads one request head.
   *
   * @param in the connection
   * @param maxBytes the largest head accepted
   * @param firstByte the first byte of the request, already read by the caller (who waited for it
   *     with the idle timeout)
   * @return the head
   * @throws BadRequestException when the head is malformed or too large
   * @throws IOException when the connection fails or ends inside the head
   */
  static RequestHead read(ConnectionInput in, int maxBytes, int firstByte) throws IOException {
    LineReader lines = new LineReader(in, maxBytes, firstByte);
    String requestLine = lines.next();
    for (int i = 0; requestLine.isEmpty(); i++) {
      if (i == MAX_LEADING_EMPTY_LINES) {
        throw bad("empty lines instead of a request line");
      }
      requestLine = lines.next();
    }
    int sp1 = requestLine.indexOf(' ');
    int sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0) {
      throw bad("the request line is not METHOD SP TARGET SP VERSION");
    }
    String method = requestLine.substring(0, sp1);
    String target = requestLine.substring(sp1 + 1, sp2);
    String version = requestLine.substring(sp2 + 1);
    if (!isToken(method)) {
      throw bad("the method is not a token");
    }
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      if (version.length() == 8 && version.startsWith("HTTP/") && Character.isDigit(version.charAt(5))
          && version.charAt(6) == '.' && Character.isDigit(version.charAt(7))) {
        throw new BadRequestException(505, "HTTP version " + version + " is not supported; use HTTP/1.1");
      }
      throw bad("the protocol version is not HTTP/1.1 or HTTP/1.0");
    }
    URI uri = target(method, target);

    Headers.Builder fields = Headers.builder();
    while (lines.nextField()) {
      byte[] b = lines.buf;
      int start = lines.start;
      int end = lines.end;
      if (b[start] == ' ' || b[start] == '\t') {
        throw bad("a header field is folded over lines (obs-fold)");
      }
      int colon = start;
      while (colon < end && b[colon] != ':') {
        colon++;
      }
      if (colon == start || colon == end) {
        throw bad("a header line has no field name and colon");
      }
      for (int i = start; i < colon; i++) {
        if (b[i] < 0 || !TCHAR[b[i]]) {
          throw bad("a header field name is not a token (whitespace before the colon?)");
        }
      }
      if (lines.control >= 0) {
        // After a token and a colon, it can only be in the value.
        throw bad("a header field value holds a control character");
      }
      int valueStart = colon + 1;
      int valueEnd = end;
      while (valueStart < valueEnd && (b[valueStart] == ' ' || b[valueStart] == '\t')) {
        valueStart++;
      }
      while (valueEnd > valueStart && (b[valueEnd - 1] == ' ' || b[valueEnd - 1] == '\t')) {
        valueEnd--;
      }
      fields.add(new String(b, start, colon - start, StandardCharsets.ISO_8859_1),
          new String(b, valueStart, valueEnd - valueStart, StandardCharsets.ISO_8859_1));
    }
    Headers headers = fields.build();

    List<String> hosts = headers.all("Host");
    if (hosts.size() > 1) {
      throw bad("more than one Host field");
    }
    if (hosts.isEmpty() && version.equals("HTTP/1.1")) {
      throw bad("an HTTP/1.1 request without Host");
    }
    if (!hosts.isEmpty() && !isHost(hosts.get(0))) {
      throw bad("the Host field is not a host and port");
    }

    List<String> lengths = headers.all("Content-Length");
    List<String> codings = headers.all("Transfer-Encoding");
    long contentLength = 0;
    if (!codings.isEmpty()) {
      if (!lengths.isEmpty()) {
        throw bad("both Content-Length and Transfer-Encoding");
      }
      if (version.equals("HTTP/1.0")) {
        throw bad("Transfer-Encoding in an HTTP/1.0 request");
      }
      if (codings.size() != 1 || !codings.get(0).equalsIgnoreCase("chunked")) {
        throw bad("Transfer-Encoding other than chunked alone");
      }
      contentLength = -1;
    } else if (!lengths.isEmpty()) {
      if (lengths.size() != 1) {
        throw bad("more than one Content-Length");
      }
      contentLength = digits(lengths.get(0));
    }
    String connection = headers.first("Connection");
    boolean close = connection != null && hasToken(connection, "close");
    // HTTP/1.0 connections are not kept: a 1.0 client that asks for keep-alive gets a close,
    // which it handles; a chunked answer to it is impossible anyway.
    boolean keepAlive = !close && version.equals("HTTP/1.1");
    return new RequestHead(method, target, uri, version, headers, contentLength, keepAlive);
  }

  /** Origin form ({@code /path?query}), absolute form, or {@code *} for OPTIONS; nothing else. */
  private static URI target(String method, String target) throws BadRequestException {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        throw bad("the request target holds whitespace, a control character or a non-ASCII byte");
      }
    }
    boolean origin = target.startsWith("/");
    boolean absolute = target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8);
    boolean asterisk = target.equals("*") && method.equals("OPTIONS");
    if (!origin && !absolute && !asterisk) {
      throw bad("the request target is not a path (origin form) or an absolute URL");
    }
    if (target.indexOf('#') >= 0) {
      throw bad("the request target holds a fragment");
    }
    try {
      URI uri = new URI(target);
      if (absolute && (uri.getRawAuthority() == null || uri.getRawUserInfo() != null)) {
        throw bad("the absolute request target has no host, or has user information");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw bad("the request target is not a valid URI: " + e.getReason());
    }
  }

  /** The characters of a token (RFC 9110 §5.6.2), by byte value. */
  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 'a' + 'A'] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= TCHAR.length || !TCHAR[c]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The fields as the {@code com.sun.net.httpserver} API has them (names normalised, values
   * grouped by name), for handlers that ask the exchange for its request headers; the proxy path
   * takes {@link #headers} as they are.
   */
  com.sun.net.httpserver.Headers jdkHeaders() {
    com.sun.net.httpserver.Headers jdk = new com.sun.net.httpserver.Headers();
    for (int i = 0; i < headers.size(); i++) {
      jdk.add(headers.name(i), headers.value(i));
    }
    return jdk;
  }

  /** A host (name, IPv4, or bracketed IPv6) with an optional port; nothing that could mean a path or a user. */
  private static boolean isHost(String host) {
    if (host.isEmpty() || host.length() > 300) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~:[]%!$&'()*+,;=".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static long digits(String value) throws BadRequestException {
    if (value.isEmpty() || value.length() > 18) {
      throw bad("Content-Length is not a number of at most 18 digits");
    }
    long n = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        throw bad("Content-Length is not one run of digits (no sign, no list)");
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** @return whether the comma-separated {@code value} holds {@code token}, in any case */
  static boolean hasToken(String value, String token) {
    for (String part : value.split(",")) {
      if (part.trim().equalsIgnoreCase(token)) {
        return true;
      }
    }
    return false;
  }

  private static BadRequestException bad(String reason) {
    return new BadRequestException(400, reason);
  }

  /** Lines of the head, each without its line end, within the size limit; bytes as ISO-8859-1. */
  private static final class LineReader {
    private final ConnectionInput in;
    private final int maxBytes;
    /** The last line read: {@code buf[start, end)}, without its line end. */
    private int start;
    private int end;
    /** Where the last line has its first control character other than HTAB (CR and NUL are refused), or -1. */
    private int control;
    /**
     * Grows as the head does, up to {@code maxBytes}: most heads are well under 1 KiB. It starts
     * at no more than {@code maxBytes}, or a limit below 1 KiB would not hold (it did not until
     * RequestHeadFuzzTest's oversized-head input showed a 436-byte head passing a 256-byte limit).
     */
    private byte[] buf;
    private int used;
    private int pending;

    LineReader(ConnectionInput in, int maxBytes, int firstByte) {
      this.in = in;
      this.maxBytes = maxBytes;
      this.buf = new byte[Math.min(1024, maxBytes)];
      this.pending = firstByte;
    }

    /** @return the next line, as text */
    String next() throws IOException {
      read();
      return new String(buf, start, end - start, StandardCharsets.ISO_8859_1);
    }

    /** @return whether a field line was read (into {@code buf[start, end)}), not the empty line ending the head */
    boolean nextField() throws IOException {
      read();
      return end > start;
    }

    private void read() throws IOException {
      int start = used;
      while (true) {
        if (used == buf.length) {
          if (buf.length >= maxBytes) {
            throw new BadRequestException(431, "the request head is larger than " + maxBytes + " bytes");
          }
          buf = java.util.Arrays.copyOf(buf, Math.min(maxBytes, buf.length * 2));
        }
        int n;
        if (pending >= 0) {
          buf[used] = (byte) pending;
          pending = -1;
          n = 1;
        } else {
          n = in.readLine(buf, used, buf.length - used);
        }
        if (n < 0) {
          throw new java.io.EOFException("the client closed the connection inside the request head");
        }
        used += n;
        if (buf[used - 1] == '\n') {
          int end = used - 1;
          if (end > start && buf[end - 1] == '\r') {
            end--;
          }
          int control = -1;
          for (int i = start; i < end; i++) {
            int c = buf[i] & 0xFF;
            if (c < 0x20 || c == 0x7F) {
              if (c == '\r') {
                throw bad("a CR that does not end a line");
              }
              if (c == 0) {
                throw bad("a NUL byte in the request head");
              }
              if (c != '\t' && control < 0) {
                control = i;
              }
            }
          }
          this.start = start;
          this.end = end;
          this.control = control;
          return;
        }
      }
    }
  }

  @Override
  public String toString() {
    return "RequestHead[" + method + " " + version + "]"; // never the target or fields: secrets
  }
}
