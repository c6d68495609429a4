package dev.portalgateway.host.front;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import dev.portalgateway.api.Problem;
import dev.portalgateway.host.http1.ConnectionInput;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * One client connection of the front server, on its own virtual thread: requests are read one
 * after another (keep-alive), each parsed strictly and handed to the context's filters and handler
 * on this thread. Blocking I/O with deadlines: waiting for the next request is bounded by the idle
 * timeout, the request head by the header-read timeout, the whole request by the request-read
 * timeout, all measured from the request's first byte.
 */
final class FrontConnection implements Runnable {
  /** Per connection, in and out: large reads and writes bypass them, so 8 KiB keeps idle connections cheap. */
  private static final int BUFFER = 8 * 1024;

  private final FrontServer server;
  private final Socket socket;
  private final FrontLimits limits;
  private DeadlineInput deadline;
  private ConnectionInput in;
  private Sink out;
  private volatile boolean inExchange;

  FrontConnection(FrontServer server, Socket socket, FrontLimits limits) {
    this.server = server;
    this.socket = socket;
    this.limits = limits;
  }

  @Override
  public void run() {
    try {
      socket.setTcpNoDelay(true); // heads, chunks and events leave as written (no 40 ms delayed-ACK waits)
      deadline = new DeadlineInput(socket);
      in = new ConnectionInput(deadline, BUFFER);
      out = new Sink(new BufferedOutputStream(socket.getOutputStream(), BUFFER));
      while (!server.stopping()) {
        deadline.expireIn(limits.idleTimeout().toMillis());
        int first;
        try {
          first = in.read();
        } catch (SocketTimeoutException idle) {
          return; // quiet past the idle timeout: let it go
        }
        if (first < 0) {
          return;
        }
        long start = System.currentTimeMillis();
        deadline.expireAt(start + limits.headerReadTimeout().toMillis());
        RequestHead head;
        try {
          head = RequestHead.read(in, limits.maxHeaderBytes(), first);
        } catch (BadRequestException bad) {
          server.countMalformed();
          refuse(bad.status(), bad.getMessage());
          return;
        } catch (SocketTimeoutException slow) {
          refuse(408, "the request head did not arrive within " + limits.headerReadTimeout().toSeconds() + " s");
          return;
        }
        String expect = head.headers().first("Expect");
        if (expect != null) {
          if (!expect.equalsIgnoreCase("100-continue") || head.http10()) {
            refuse(417, "the only expectation understood is 100-continue, in HTTP/1.1");
            return;
          }
        }
        deadline.expireAt(start + limits.requestReadTimeout().toMillis());
        if (!serve(head, expect != null)) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The client went away, or a handler failed: the connection ends (a cut response stays cut).
    } finally {
      closeQuietly();
      server.connectionClosed(this);
    }
  }

  /** @return whether the connection can carry the next request */
  private boolean serve(RequestHead head, boolean expectsContinue) throws IOException {
    HttpContext context = server.contextFor(head.uri().getRawPath() == null ? "/" : head.uri().getRawPath());
    if (context == null) {
      refuse(404, "nothing is served at this path");
      return false;
    }
    if (expectsContinue) {
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }
    FrontExchange exchange = new FrontExchange(this, head, context, in);
    inExchange = true;
    try {
      new Filter.Chain(context.getFilters(), context.getHandler()).doFilter(exchange);
    } finally {
      inExchange = false;
    }
    // A handler that returns without closing leaves an exchange that is closed here; one that
    // threw (to cut a response short) left the method above, and the connection is dropped.
    exchange.close();
    return exchange.reusable();
  }

  /** Answers a request refused before any handler (a problem document) and lets the connection go. */
  private void refuse(int status, String reason) {
    String type = switch (status) {
      case 431 -> "headers-too-large";
      case 505 -> "http-version-not-supported";
      case 408 -> "request-timeout";
      case 417 -> "expectation-failed";
      case 404 -> "not-found";
      case 503 -> "too-many-connections";
      default -> "bad-request";
    };
    byte[] body = Problem.of(status, type, StatusText.of(status), "The request was refused: " + reason + ".",
        status == 400 ? "Send a well-formed HTTP/1.1 request (RFC 9112)." : null).toJson()
        .getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + StatusText.of(status) + "\r\nContent-Type: " + Problem.MEDIA_TYPE
        + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\nDate: " + HttpDate.now() + "\r\n\r\n";
    try {
      OutputStream raw = out != null ? out.raw : socket.getOutputStream();
      raw.write(head.getBytes(StandardCharsets.ISO_8859_1));
      raw.write(body);
      raw.flush();
      socket.shutdownOutput(); // the answer is complete before the close, so a client reads it whole
    } catch (IOException | RuntimeException ignored) {
      // The client is gone already.
    }
  }

  /** Answers a connection past the limit and closes it, from the accepting side. */
  void refuseTooMany() {
    try {
      refuse(503, "the gateway holds its maximum of " + limits.maxConnections() + " client connections");
    } finally {
      closeQuietly();
    }
  }

  Sink output() {
    return out;
  }

  /** The connection's input after an upgrade: no request deadline applies to the new protocol. */
  InputStream rawInput() {
    deadline.expireIn(Long.MAX_VALUE / 4);
    return in;
  }

  OutputStream rawOutput() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        out.write(new byte[] {(byte) b}, 0, 1);
        out.flush();
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        out.flush();
      }

      @Override
      public void close() {
        closeQuietly();
      }
    };
  }

  InetSocketAddress remoteAddress() {
    return (InetSocketAddress) socket.getRemoteSocketAddress();
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  SSLSession sslSession() {
    return socket instanceof SSLSocket ssl ? ssl.getSession() : null;
  }

  /** @return whether a request is being handled now (a stop closes idle connections only) */
  boolean inExchange() {
    return inExchange;
  }

  void closeQuietly() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closed.
    }
  }

  /** The connection's buffered output, as the exchange's streams write to it. */
  static final class Sink implements FrontExchange.ByteSink {
    private final BufferedOutputStream raw;

    Sink(BufferedOutputStream raw) {
      this.raw = raw;
    }

    @Override
    public void write(byte[] b) throws IOException {
      raw.write(b, 0, b.length);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      raw.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      raw.flush();
    }
  }

  /**
   * The socket's input with a deadline: each read waits at most until it (the socket timeout set
   * to what is left), so a client that trickles bytes cannot stretch a head or a request forever.
   */
  private static final class DeadlineInput extends InputStream {
    private final Socket socket;
    private final InputStream in;
    private long deadlineMillis;

    DeadlineInput(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
    }

    void expireIn(long millis) {
      deadlineMillis = System.currentTimeMillis() + millis;
    }

    void expireAt(long millis) {
      deadlineMillis = millis;
    }

    private void arm() throws IOException {
      long left = deadlineMillis - System.currentTimeMillis();
      if (left <= 0) {
        throw new SocketTimeoutException("the deadline passed");
      }
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
    }

    @Override
    public int read() throws IOException {
      arm();
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      arm();
      return in.read(b, off, len);
    }

    @Override
    public int available() throws IOException {
      return in.available();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
