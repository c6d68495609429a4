package dev.portalgateway.host.http1;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The gateway's own HTTP/1.1 codec on one proxied request, without a network: {@link Http1Client}
 * takes a pooled connection, writes the request head, parses the response head, and the
 * benchmark reads the 1 KiB body to its end and closes it, which returns the connection to the
 * pool. That is what every request to a plain upstream (and, over E2EE, to a lease) costs the
 * gateway besides the socket I/O.
 *
 * <p>The transport is in memory: each flushed request arms one canned response (a 7-field head
 * as nginx or a typical service sends it, and the body), so the connection's buffer holds exactly
 * one response at a time, as over a socket, and the connection is reused every time. In this
 * package because the connection and the response head are package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class Http1ExchangeBenchmark {
  private static final String HEAD = "HTTP/1.1 200 OK\r\n"
      + "Server: nginx/1.24.0\r\n"
      + "Date: Wed, 26 Nov 2026 14:29:17 GMT\r\n"
      + "Content-Type: application/json\r\n"
      + "Content-Length: 1024\r\n"
      + "Connection: keep-alive\r\n"
      + "Cache-Control: no-store\r\n"
      + "X-Request-Id: 6f1c2a9e1f3b4c559a0e2b7d9c1e4f10\r\n"
      + "\r\n";

  private Http1Client client;
  private Headers requestHeaders;
  private byte[] sink;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    byte[] head = HEAD.getBytes(StandardCharsets.ISO_8859_1);
    byte[] response = new byte[head.length + 1024];
    System.arraycopy(head, 0, response, 0, head.length);
    java.util.Arrays.fill(response, head.length, response.length, (byte) 'x');
    TransportPool pool = new TransportPool(() -> new CannedTransport(response), 4, TimeUnit.SECONDS.toNanos(60));
    client = new Http1Client(pool, "127.0.0.1:18080", 10_000);
    // The fields ProxyHandler forwards for the load test's request.
    requestHeaders = Headers.of(
        "Accept", "*/*",
        "User-Agent", "portal-gateway-bench/1",
        "X-Forwarded-For", "127.0.0.1",
        "X-Forwarded-Proto", "http",
        "X-Forwarded-Host", "127.0.0.1:8080",
        "X-Request-Id", "6f1c2a9e1f3b4c559a0e2b7d9c1e4f10");
    sink = new byte[16 * 1024];
    for (int i = 0; i < 3; i++) {
      if (exchange() != 1024) {
        throw new IllegalStateException("the canned exchange did not return the 1 KiB body");
      }
    }
    if (pool.idleCount() != 1) {
      throw new IllegalStateException("the connection was not returned to the pool");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    client.close();
  }

  /** One GET: request head out, response head parsed, body read to its end, connection pooled. */
  @Benchmark
  public int exchange() throws IOException {
    Response response = client.send("GET", "/x", requestHeaders, Body.empty());
    int total = 0;
    try (InputStream in = response.body().open()) {
      int n;
      while ((n = in.read(sink)) >= 0) {
        total += n;
      }
    }
    return total;
  }

  /** One connection whose every flushed request is answered with the same bytes. */
  private static final class CannedTransport implements Transport {
    private final byte[] response;
    private int position;

    CannedTransport(byte[] response) {
      this.response = response;
      this.position = response.length; // nothing to read until a request is flushed
    }

    private final InputStream in = new InputStream() {
      @Override
      public int read() {
        return position < response.length ? response[position++] & 0xFF : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (position == response.length) {
          throw new IllegalStateException("read with no request outstanding: it would block forever");
        }
        int n = Math.min(len, response.length - position);
        System.arraycopy(response, position, b, off, n);
        position += n;
        return n;
      }

      @Override
      public int available() {
        return response.length - position;
      }
    };

    private final OutputStream out = new OutputStream() {
      @Override
      public void write(int b) {}

      @Override
      public void write(byte[] b, int off, int len) {}

      @Override
      public void flush() {
        position = 0;
      }
    };

    @Override
    public InputStream input() {
      return in;
    }

    @Override
    public OutputStream output() {
      return out;
    }

    @Override
    public void readTimeout(int millis) {}

    @Override
    public boolean isStale() {
      return false;
    }

    @Override
    public void close() {}
  }
}
