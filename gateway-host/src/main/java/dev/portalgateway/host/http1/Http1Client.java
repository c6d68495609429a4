package dev.portalgateway.host.http1;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.BodyTooLargeException;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Response;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP/1.1 client over pooled {@link Transport}s, with blocking I/O for virtual threads.
 *
 * <p>Both ways stream: the request body is written by its own virtual thread as the client sends
 * it, chunk by chunk, while this thread waits for the response head; the response body is handed
 * back unread and pulled by whoever consumes it. A connection goes back to the pool only after a
 * clean, complete exchange.
 */
public final class Http1Client implements AutoCloseable {
  /**
   * Fields the codec writes itself: framing, connection management and the target host. Compared
   * ignoring case, in place, as {@code HopByHop} compares its own list.
   */
  private static final String[] CODEC_FIELDS = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive", "expect", "upgrade", "te", "trailer"};
  private static final byte[] CRLF = {'\r', '\n'};
  private static final int COPY_BUFFER = 16 * 1024;

  private final TransportPool pool;
  private final String hostHeader;
  private final long responseTimeoutNanos;

  /**
   * @param pool transports to the upstream
   * @param hostHeader the {@code Host} to send
   * @param responseTimeoutMillis how long to wait for the response head once the request is sent
   */
  public Http1Client(TransportPool pool, String hostHeader, long responseTimeoutMillis) {
    this.pool = pool;
    this.hostHeader = hostHeader;
    this.responseTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(responseTimeoutMillis);
  }

  /**
   * Sends a request and returns when the response head has arrived.
   *
   * @param method the method
   * @param target the request target: path and query
   * @param headers end-to-end fields to send; framing fields are the codec's own
   * @param body the body
   * @return the response, its body streaming from the connection
   * @throws Http1Exception when the upstream cannot be reached, times out or answers garbage
   * @throws BodyTooLargeException when the request body exceeded its limit while streaming
   * @throws IOException when the client's request body failed
   */
  public Response send(String method, String target, Headers headers, Body body) throws IOException {
    body = bufferedIfSmall(body);
    boolean replayable = body.length() == 0 || body.isReplayable();
    TransportPool.Connection c;
    try {
      c = pool.acquire();
    } catch (IOException e) {
      throw new Http1Exception(Http1Exception.Kind.CONNECT, "cannot connect: " + e.getMessage(), e);
    }
    if (c.reused()) {
      long mark = c.transport().sentMark();
      try {
        return exchange(c, method, target, headers, body);
      } catch (StaleConnectionException e) {
        c.closeQuietly();
        // Resent when it is safe to repeat, or provably never reached the service: the far side
        // had closed before any of this request went out (the rule of Go's net/http and OkHttp).
        if (!replayable || (e.requestSent && !mayResend(method, headers) && !c.transport().peerClosedBefore(mark))) {
          throw new Http1Exception(Http1Exception.Kind.BROKEN,
              "the upstream closed a kept-alive connection as the request was sent", e.getCause());
        }
        // The far side closed it just as we took it from the pool: retry once on a new one.
      }
      try {
        c = pool.acquireNew();
      } catch (IOException e) {
        throw new Http1Exception(Http1Exception.Kind.CONNECT, "cannot connect: " + e.getMessage(), e);
      }
    }
    try {
      return exchange(c, method, target, headers, body);
    } catch (StaleConnectionException e) {
      c.closeQuietly();
      throw new Http1Exception(Http1Exception.Kind.BROKEN, e.getMessage(), e.getCause());
    }
  }

  /**
   * A small body of known length (most JSON-RPC calls), read into memory: it then goes out in one
   * write with its head, needs no writer thread, and can be sent again on another connection. A
   * caller that may send a request twice prepares its body with this first; {@link #send} does it
   * anyway, and leaves a body it returned as it is.
   *
   * @return {@code body} itself, unless it streams and has a known length of at most 16 KiB
   * @throws ProblemException 400 when the body is shorter or longer than its declared length
   */
  public static Body bufferedIfSmall(Body body) throws IOException {
    if (body.isReplayable() || body.length() <= 0 || body.length() > COPY_BUFFER) {
      return body;
    }
    long declared = body.length();
    Body buffered = body.buffered(COPY_BUFFER);
    if (buffered.length() != declared) {
      throw lengthMismatch(declared, buffered.length());
    }
    return buffered;
  }

  /**
   * Whether a request that went out whole, on a connection that then closed without an answer,
   * may go out again. The usual cause is a server closing an idle connection as the request
   * arrived, but a server that crashed after acting on it looks the same, so only requests that
   * are safe to repeat are: idempotent methods (RFC 9110 §9.2.2), or a request with an
   * {@code Idempotency-Key}. A request that failed while being written never reached a server
   * able to act on it, and is always resent.
   */
  private static boolean mayResend(String method, Headers headers) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
      default -> headers.contains("Idempotency-Key");
    };
  }

  private Response exchange(TransportPool.Connection c, String method, String target, Headers headers, Body body)
      throws IOException {
    long length = body.length();
    boolean chunked = length < 0;
    BodyWriter writer = null;
    try {
      writeHead(c.out, method, target, headers, length);
      if (length == 0) {
        c.out.flush();
      } else if (body.isReplayable() && length > 0 && length <= COPY_BUFFER) {
        long written;
        try (InputStream in = body.open()) {
          written = in.transferTo(c.out);
        }
        if (written != length) {
          c.closeQuietly();
          throw lengthMismatch(length, written);
        }
        c.out.flush();
      } else {
        writer = new BodyWriter(body, c.out, chunked, c::closeQuietly);
        Thread.ofVirtual().name("request-body-writer").start(writer);
      }
    } catch (ProblemException e) {
      throw e;
    } catch (IOException e) {
      throw new StaleConnectionException(e, false);
    }
    ResponseHead head;
    try {
      head = readHead(c, writer);
      while (head.status >= 100 && head.status < 200 && head.status != 101) {
        head = readHead(c, writer); // 100 Continue, 103 Early Hints: the real answer follows
      }
    } catch (StaleConnectionException | Http1Exception | ProblemException e) {
      c.closeQuietly();
      throw e;
    } catch (IOException e) {
      c.closeQuietly();
      if (writer != null) {
        writer.rethrowClientFailure(); // the writer broke the connection: say why
      }
      throw new Http1Exception(Http1Exception.Kind.BROKEN, e.getMessage(), e);
    }
    if (head.status == 101) {
      c.closeQuietly();
      throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream switched protocols, which the gateway does not proxy", null);
    }
    c.transport().readTimeout(0); // a body may stream for as long as it lasts
    return response(c, method, head, writer);
  }

  private ResponseHead readHead(TransportPool.Connection c, BodyWriter writer) throws IOException {
    ResponseHead head = new ResponseHead();
    long waitingSince = writer == null ? System.nanoTime() : -1;
    while (true) {
      if (waitingSince < 0 && writer.finished()) {
        writer.rethrowClientFailure();
        waitingSince = writer.finishedAt();
      }
      long left = waitingSince < 0 ? responseTimeoutNanos : responseTimeoutNanos - (System.nanoTime() - waitingSince);
      if (left <= 0) {
        throw new Http1Exception(Http1Exception.Kind.TIMEOUT, "no response head in time", null);
      }
      c.transport().readTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
      try {
        head.read(c.in);
        return head;
      } catch (SocketTimeoutException e) {
        // Keep waiting while the request body is still going out; the clock starts once it is sent.
      } catch (EOFException e) {
        if (writer != null) {
          writer.awaitQuietly();
          writer.rethrowClientFailure();
        }
        if (!head.started()) {
          throw new StaleConnectionException(e, true);
        }
        throw new Http1Exception(Http1Exception.Kind.BROKEN, e.getMessage(), e);
      } catch (IOException e) {
        if (writer != null) {
          // Set before the writer breaks the connection, so a break it caused is reported as
          // what it is: the client's body failed (too large, or the client went away).
          writer.rethrowClientFailure();
        }
        if (!head.started()) {
          throw new StaleConnectionException(e, true);
        }
        throw e;
      }
    }
  }

  private Response response(TransportPool.Connection c, String method, ResponseHead head, BodyWriter writer)
      throws IOException {
    Headers fields = head.headers();
    boolean keepAlive = !head.http10 && !hasToken(fields, "Connection", "close");
    boolean noBody = "HEAD".equals(method) || head.status == 204 || head.status == 304;
    if (noBody) {
      finish(c, keepAlive, writer, true);
      return Response.of(head.status, fields, Body.empty());
    }
    String te = String.join(",", fields.all("Transfer-Encoding")).trim();
    java.util.List<String> lengths = fields.all("Content-Length");
    InputStream framed;
    long length;
    if (!te.isEmpty()) {
      // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; chunked must be the last coding,
      // else the body runs to the end of the connection. Either way, a response that carried both
      // is not trusted with the connection afterwards.
      boolean chunkedLast = te.toLowerCase(Locale.ROOT).replace(" ", "").endsWith("chunked");
      framed = chunkedLast ? new BodyStreams.Chunked(c.in) : c.in;
      length = -1;
      keepAlive = keepAlive && chunkedLast && lengths.isEmpty();
    } else if (!lengths.isEmpty()) {
      length = singleLength(lengths);
      if (length < 0) {
        c.closeQuietly();
        throw new Http1Exception(Http1Exception.Kind.PROTOCOL, "the upstream sent an invalid or conflicting Content-Length", null);
      }
      if (length == 0) {
        finish(c, keepAlive, writer, true);
        return Response.of(head.status, fields, Body.empty());
      }
      framed = new BodyStreams.Fixed(c.in, length);
    } else {
      framed = c.in; // delimited by the connection closing: never reusable
      length = -1;
      keepAlive = false;
    }
    return Response.of(head.status, fields, Body.ofStream(new PooledBody(framed, c, keepAlive, writer), length));
  }

  /** @return the one length all Content-Length values agree on, or -1 */
  private static long singleLength(java.util.List<String> values) {
    long found = -1;
    for (String value : values) {
      for (String part : value.split(",")) {
        long n;
        try {
          n = Long.parseLong(part.trim());
        } catch (NumberFormatException e) {
          return -1;
        }
        if (n < 0 || (found >= 0 && n != found)) {
          return -1;
        }
        found = n;
      }
    }
    return found;
  }

  private static void finish(TransportPool.Connection c, boolean keepAlive, BodyWriter writer, boolean complete) {
    boolean requestDone = writer == null || writer.finishedCleanly();
    if (keepAlive && complete && requestDone && nothingBuffered(c)) {
      c.release();
    } else {
      if (writer != null) {
        writer.abandon();
      }
      c.closeQuietly();
    }
  }

  /** Bytes past the end of a response are a desync: such a connection must not serve another. */
  private static boolean nothingBuffered(TransportPool.Connection c) {
    try {
      return c.in.available() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean hasToken(Headers h, String field, String token) {
    for (String v : h.all(field)) {
      for (String t : v.split(",")) {
        if (t.trim().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  private void writeHead(OutputStream out, String method, String target, Headers headers, long length) throws IOException {
    // Straight into bytes, one write: this runs for every request, and lower-casing each name
    // and building the head as a String first was 9 % of the gateway's Java CPU (docs/performance.md).
    HeadBytes head = new HeadBytes(128 + 64 * headers.size());
    head.text(method).text(" ").text(target).text(" HTTP/1.1\r\nHost: ").text(hostHeader).text("\r\n");
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (isCodecField(name)) {
        continue;
      }
      String value = headers.value(i);
      if (hasLineBreak(name) || hasLineBreak(value)) {
        continue; // never let a field value start a new header line
      }
      head.text(name).text(": ").text(value).text("\r\n");
    }
    if (length < 0) {
      head.text("Transfer-Encoding: chunked\r\n");
    } else if (length > 0 || needsZeroLength(method)) {
      head.text("Content-Length: ").text(Long.toString(length)).text("\r\n");
    }
    head.text("\r\n");
    out.write(head.bytes, 0, head.length);
  }

  private static boolean isCodecField(String name) {
    for (String f : CODEC_FIELDS) {
      if (f.length() == name.length() && f.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /** A request head as ISO-8859-1 bytes (RFC 9112 §5.5), grown as needed. */
  private static final class HeadBytes {
    byte[] bytes;
    int length;

    HeadBytes(int capacity) {
      bytes = new byte[capacity];
    }

    HeadBytes text(String s) {
      int n = s.length();
      if (length + n > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + n));
      }
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        // As String.getBytes(ISO_8859_1) does: a char beyond Latin-1 becomes '?'. Truncating it
        // instead would turn U+010A into a line feed inside the head.
        bytes[length + i] = c <= 0xFF ? (byte) c : (byte) '?';
      }
      length += n;
      return this;
    }
  }

  /**
   * The body did not have the length its {@code Content-Length} declared (a filter that changed a
   * body and kept its length, say). Sending it anyway would let the surplus reach the upstream as
   * a second, unfiltered request on a kept-alive connection, or make the upstream read the next
   * request as body: the request fails and the connection is closed instead.
   */
  private static ProblemException lengthMismatch(long declared, long actual) {
    return new ProblemException(Problem.of(500, "body-length-mismatch", "Internal Server Error",
        "The request body did not match its declared length of " + declared + " bytes (" + actual + " seen).",
        "A plugin changed the body without updating its length: use a body of unknown length (-1)."));
  }

  private static boolean needsZeroLength(String method) {
    return method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
  }

  private static boolean hasLineBreak(String s) {
    return s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0;
  }

  @Override
  public void close() {
    pool.close();
  }

  /** Nothing of the response arrived: on a pooled connection, the far side had closed it. */
  private static final class StaleConnectionException extends IOException {
    /** Whether the whole request went out before the failure: the upstream may have acted on it. */
    final boolean requestSent;

    StaleConnectionException(IOException cause, boolean requestSent) {
      super(cause.getMessage(), cause);
      this.requestSent = requestSent;
    }
  }

  /** Writes the request body on its own thread while the response is awaited. */
  private static final class BodyWriter implements Runnable {
    private final Body body;
    private final OutputStream out;
    private final boolean chunked;
    private final Runnable breakConnection;
    private final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    private volatile long finishedAt;
    private volatile IOException clientFailure;
    private volatile boolean upstreamFailed;
    private volatile InputStream source;

    BodyWriter(Body body, OutputStream out, boolean chunked, Runnable breakConnection) {
      this.body = body;
      this.out = out;
      this.chunked = chunked;
      this.breakConnection = breakConnection;
    }

    @Override
    public void run() {
      long declared = body.length();
      long total = 0;
      try (InputStream in = body.open()) {
        source = in;
        byte[] buf = new byte[COPY_BUFFER];
        while (true) {
          int n;
          try {
            n = in.read(buf);
          } catch (IOException e) {
            // A size limit is the client's problem with its own status; anything else means the
            // client stopped sending.
            clientFailure = e instanceof BodyTooLargeException || e instanceof RequestBodyException
                ? e : new RequestBodyException(e);
            // The upstream waits for the rest of a body that will never come: break the
            // connection so the thread waiting for its answer wakes up now, not at the timeout.
            breakConnection.run();
            return;
          }
          if (n < 0) {
            break;
          }
          if (n == 0) {
            continue;
          }
          total += n;
          if (!chunked && total > declared) {
            clientFailure = lengthMismatch(declared, total);
            breakConnection.run();
            return;
          }
          if (chunked) {
            out.write(ResponseHead.ascii(Integer.toHexString(n)));
            out.write(CRLF);
            out.write(buf, 0, n);
            out.write(CRLF);
          } else {
            out.write(buf, 0, n);
          }
          if (available(in) <= 0) {
            out.flush();
          }
        }
        if (chunked) {
          out.write(ResponseHead.ascii("0\r\n\r\n"));
        } else if (total != declared) {
          clientFailure = lengthMismatch(declared, total);
          breakConnection.run();
          return;
        }
        out.flush();
      } catch (IOException e) {
        upstreamFailed = true; // the upstream stopped reading, often because it already answered
      } catch (RuntimeException e) {
        clientFailure = new RequestBodyException(new IOException("reading the request body failed", e));
        breakConnection.run();
      } finally {
        finishedAt = System.nanoTime();
        done.countDown();
      }
    }

    private static int available(InputStream in) {
      try {
        return in.available();
      } catch (IOException e) {
        return 0;
      }
    }

    boolean finished() {
      return done.getCount() == 0;
    }

    long finishedAt() {
      return finishedAt;
    }

    boolean finishedCleanly() {
      return finished() && clientFailure == null && !upstreamFailed;
    }

    void rethrowClientFailure() throws IOException {
      IOException e = clientFailure;
      if (e != null) {
        throw e;
      }
    }

    void awaitQuietly() {
      try {
        done.await(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** The response is over while the body still goes out: stop reading the client. */
    void abandon() {
      InputStream in = source;
      if (in != null && !finished()) {
        try {
          in.close();
        } catch (IOException ignored) {
          // The writer stops on its next read either way.
        }
      }
    }
  }

  /** The response body; returns the connection to the pool after a complete, clean read. */
  private static final class PooledBody extends InputStream {
    private final InputStream framed;
    private final TransportPool.Connection connection;
    private final boolean keepAlive;
    private final BodyWriter writer;
    private volatile boolean ended;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    PooledBody(InputStream framed, TransportPool.Connection connection, boolean keepAlive, BodyWriter writer) {
      this.framed = framed;
      this.connection = connection;
      this.keepAlive = keepAlive;
      this.writer = writer;
    }

    @Override
    public int read() throws IOException {
      int b = framed.read();
      if (b < 0) {
        ended = true;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = framed.read(b, off, len);
      } catch (IOException e) {
        ended = false;
        close();
        throw e;
      }
      if (n < 0) {
        ended = true;
      }
      return n;
    }

    @Override
    public int available() throws IOException {
      return framed.available();
    }

    @Override
    public void close() {
      // May come from another thread (an SSE keep-alive that found the client gone), and twice.
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      if (writer != null && ended && keepAlive) {
        writer.awaitQuietly();
      }
      finish(connection, keepAlive, writer, ended);
    }
  }
}
