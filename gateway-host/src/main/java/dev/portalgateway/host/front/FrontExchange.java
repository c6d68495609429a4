package dev.portalgateway.host.front;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpsExchange;
import dev.portalgateway.host.http1.BodyStreams;
import dev.portalgateway.host.http1.ConnectionInput;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSession;

/**
 * One request and its response on a front-server connection, as the {@code com.sun.net.httpserver}
 * API presents it. The response head is buffered until the first body write or flush, as both JDK
 * providers do; {@code sendResponseHeaders(101, -1)} hands the raw connection over (an upgrade).
 */
final class FrontExchange extends HttpsExchange implements RequestFields {
  private static final byte[] CRLF = {'\r', '\n'};

  private final FrontConnection connection;
  private final RequestHead head;
  private final HttpContext context;
  private final Headers responseHeaders = new Headers();
  /** Made from the head's fields when a handler first asks for them; the proxy path never does. */
  private Headers requestHeaders;
  private final Map<String, Object> attributes = new HashMap<>();
  private InputStream requestBody;
  private OutputStream responseBody;
  private InputStream framedRequestBody;
  private ResponseBody framedResponseBody;
  private int status = -1;
  private boolean closeAfter;
  private boolean upgraded;
  private boolean closed;

  FrontExchange(FrontConnection connection, RequestHead head, HttpContext context, ConnectionInput in) {
    this.connection = connection;
    this.head = head;
    this.context = context;
    this.closeAfter = !head.keepAlive();
    if (head.chunked()) {
      framedRequestBody = new BodyStreams.Chunked(in, "the client");
    } else if (head.contentLength() > 0) {
      framedRequestBody = new BodyStreams.Fixed(in, head.contentLength(), "the client");
    } else {
      framedRequestBody = InputStream.nullInputStream();
    }
    this.requestBody = framedRequestBody;
    this.responseBody = new NotYetSent();
  }

  @Override
  public Headers getRequestHeaders() {
    if (requestHeaders == null) {
      requestHeaders = head.jdkHeaders();
    }
    return requestHeaders;
  }

  @Override
  public dev.portalgateway.api.Headers requestFields() {
    return head.headers();
  }

  @Override
  public Headers getResponseHeaders() {
    return responseHeaders;
  }

  @Override
  public URI getRequestURI() {
    return head.uri();
  }

  @Override
  public String getRequestMethod() {
    return head.method();
  }

  @Override
  public HttpContext getHttpContext() {
    return context;
  }

  @Override
  public InputStream getRequestBody() {
    return requestBody;
  }

  @Override
  public OutputStream getResponseBody() {
    return responseBody;
  }

  @Override
  public void sendResponseHeaders(int rCode, long responseLength) throws IOException {
    if (status >= 0) {
      throw new IOException("response headers already sent");
    }
    if (rCode < 100 || rCode > 999) {
      throw new IllegalArgumentException("not a status code: " + rCode);
    }
    status = rCode;
    boolean head = this.head.method().equals("HEAD");
    ByteSink out = connection.output();
    StringBuilder h = new StringBuilder(256);
    // HTTP/1.1 also to a 1.0 client: a server sends its own version (RFC 9110 §6.2).
    h.append("HTTP/1.1 ").append(rCode).append(' ').append(StatusText.of(rCode)).append("\r\n");
    if (rCode == 101) {
      // An upgrade: the handler speaks the new protocol over the raw connection from here on.
      upgraded = true;
      closeAfter = true;
      appendFields(h);
      out.write(h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      requestBody = connection.rawInput();
      responseBody = connection.rawOutput();
      return;
    }
    boolean noBody = head || rCode < 200 || rCode == 204 || rCode == 304;
    if (responseHeaders.containsKey("Connection") && RequestHead.hasToken(responseHeaders.getFirst("Connection"), "close")) {
      closeAfter = true;
    }
    responseHeaders.remove("Content-length");
    responseHeaders.remove("Transfer-encoding");
    ResponseBody body;
    if (noBody || responseLength < 0) {
      if (!noBody) {
        h.append("Content-Length: 0\r\n");
      }
      body = ResponseBody.none();
    } else if (responseLength > 0) {
      h.append("Content-Length: ").append(responseLength).append("\r\n");
      body = ResponseBody.fixed(out, responseLength);
    } else if (this.head.http10()) {
      closeAfter = true; // no chunked coding in HTTP/1.0: the end of the connection ends the body
      body = ResponseBody.untilClose(out);
    } else {
      h.append("Transfer-Encoding: chunked\r\n");
      body = ResponseBody.chunked(out);
    }
    if (closeAfter && !responseHeaders.containsKey("Connection")) {
      h.append("Connection: close\r\n");
    }
    if (!responseHeaders.containsKey("Date")) {
      h.append("Date: ").append(HttpDate.now()).append("\r\n");
    }
    appendFields(h);
    h.append("\r\n");
    out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1)); // buffered: leaves with the body
    framedResponseBody = body;
    responseBody = body;
  }

  private void appendFields(StringBuilder h) {
    for (Map.Entry<String, List<String>> e : responseHeaders.entrySet()) {
      for (String value : e.getValue()) {
        for (int i = 0; i < value.length(); i++) {
          char c = value.charAt(i);
          if (c == '\r' || c == '\n' || c == 0) {
            throw new IllegalArgumentException("a response header value holds CR, LF or NUL: " + e.getKey());
          }
        }
        h.append(e.getKey()).append(": ").append(value).append("\r\n");
      }
    }
  }

  @Override
  public InetSocketAddress getRemoteAddress() {
    return connection.remoteAddress();
  }

  @Override
  public int getResponseCode() {
    return status;
  }

  @Override
  public InetSocketAddress getLocalAddress() {
    return connection.localAddress();
  }

  @Override
  public String getProtocol() {
    return head.version();
  }

  @Override
  public Object getAttribute(String name) {
    return attributes.get(name);
  }

  @Override
  public void setAttribute(String name, Object value) {
    if (value == null) {
      attributes.remove(name);
    } else {
      attributes.put(name, value);
    }
  }

  @Override
  public void setStreams(InputStream i, OutputStream o) {
    if (i != null) {
      requestBody = i;
    }
    if (o != null) {
      responseBody = o;
    }
  }

  @Override
  public HttpPrincipal getPrincipal() {
    return null;
  }

  @Override
  public SSLSession getSSLSession() {
    return connection.sslSession();
  }

  /**
   * Ends the exchange: the rest of the request body is read (so the next request can be), the
   * response body ended. Whether the connection can carry another request is decided here.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (upgraded) {
      connection.closeQuietly();
      return;
    }
    try {
      if (status < 0) {
        closeAfter = true; // no answer at all: nothing else can follow on this connection
        return;
      }
      framedResponseBody.finish();
      connection.output().flush();
      if (!framedResponseBody.complete()) {
        closeAfter = true;
      }
      if (!closeAfter && !drainRequestBody()) {
        closeAfter = true;
      }
    } catch (IOException | RuntimeException e) {
      closeAfter = true;
    }
  }

  /** @return whether the request body was read to its end, reading at most 64 KiB more of it */
  private boolean drainRequestBody() {
    try {
      // Most requests have no body or one the handler read: no buffer for them (8 KiB a request).
      if (framedRequestBody.read() < 0) {
        return true;
      }
      long left = 64 * 1024 - 1;
      byte[] buf = new byte[8192];
      while (left > 0) {
        int n = framedRequestBody.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          return true;
        }
        left -= n;
      }
      return false;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** @return whether the connection may carry the next request once this exchange is closed */
  boolean reusable() {
    return closed && !closeAfter && !upgraded;
  }

  boolean closed() {
    return closed;
  }

  /** What {@link #getResponseBody()} returns before the head is sent: writing then is a handler bug. */
  private static final class NotYetSent extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      throw new IOException("sendResponseHeaders must be called before writing the response body");
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      write(0);
    }
  }

  /** The sink a connection writes to: buffered, so a head and a small body leave in one write. */
  interface ByteSink {
    void write(byte[] b) throws IOException;

    void write(byte[] b, int off, int len) throws IOException;

    void flush() throws IOException;
  }

  static byte[] crlf() {
    return CRLF;
  }
}
