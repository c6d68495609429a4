package dev.portalgateway.host.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Response;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's HTTP/1.1 client against a raw loopback upstream that records each request head
 * and closes a kept-alive connection right after answering, without saying so (no
 * {@code Connection: close}), as servers do when their keep-alive timeout or request limit runs
 * out. Whether the pool notices at checkout or the request finds out as it is sent, the client
 * must get its answer from a new connection, never a 502.
 */
class Http1ClientTest {
  private ServerSocket server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  /** Connections the server has closed: a test waits for this, not for a guessed time. */
  private final AtomicInteger closedByServer = new AtomicInteger();
  private final java.util.concurrent.LinkedBlockingQueue<byte[]> heads = new java.util.concurrent.LinkedBlockingQueue<>();

  @BeforeEach
  void listen() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(() -> {
      try {
        while (true) {
          Socket s = server.accept();
          connections.incrementAndGet();
          Thread.ofVirtual().start(() -> answerOnceAndClose(s));
        }
      } catch (IOException closed) {
        // the test is over
      }
    });
  }

  @AfterEach
  void close() throws IOException {
    server.close();
  }

  /**
   * When set, a connection answers its first request, then reads the second whole and closes
   * without answering: a server that fails after acting on a request.
   */
  private volatile boolean dropSecondRequest;
  private final java.util.Queue<String> methodsSeen = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** Reads one request, answers it, closes (or, with {@link #dropSecondRequest}, reads another first). */
  private void answerOnceAndClose(Socket s) {
    // Resources close in reverse: the socket first, then the count.
    try (Closeable counted = closedByServer::incrementAndGet; Socket closing = s) {
      s.setSoTimeout(10_000);
      InputStream in = s.getInputStream();
      String method = readRequest(in);
      int n = requests.incrementAndGet();
      String body = "answer " + n;
      OutputStream out = s.getOutputStream();
      boolean head = method.equals("HEAD");
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + (head ? "" : body))
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      if (head) {
        // A body for a HEAD, which HTTP forbids, arriving after the answer the client has taken.
        Thread.sleep(30);
        out.write(body.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      if (dropSecondRequest) {
        readRequest(in);
        return; // acted on it, and gone
      }
      // Let the client read the answer and pool the connection before it goes away.
      Thread.sleep(100);
    } catch (IOException | InterruptedException | RuntimeException e) {
      // a client that went away; the test's assertions say what matters
    }
  }

  /** Reads one request: its head, then a chunked or Content-Length body. @return its method */
  private String readRequest(InputStream in) throws IOException {
    String head = readUntil(in, "\r\n\r\n");
    String method = head.substring(0, head.indexOf(' '));
    methodsSeen.add(method);
    heads.add(head.getBytes(StandardCharsets.ISO_8859_1));
    String lower = head.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("transfer-encoding: chunked")) {
      readUntil(in, "0\r\n\r\n");
    } else if (lower.contains("content-length: ")) {
      int at = lower.indexOf("content-length: ") + 16;
      int length = Integer.parseInt(lower.substring(at, lower.indexOf("\r\n", at)).trim());
      in.readNBytes(length);
    }
    return method;
  }

  private static String readUntil(InputStream in, String end) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith(end)) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed");
      }
      sb.append((char) b);
    }
    return sb.toString();
  }

  private void awaitServerClosed(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (closedByServer.get() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the server did not close its connection within 10 s");
      }
      Thread.sleep(5);
    }
  }

  private Http1Client client() {
    TransportPool pool = new TransportPool(
        () -> SocketTransport.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2000),
        16, TimeUnit.SECONDS.toNanos(30));
    return new Http1Client(pool, "127.0.0.1:" + server.getLocalPort(), 5000);
  }

  private static String text(Response r) throws IOException {
    try (InputStream in = r.body().open()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aRequestWithoutABodyIsResentOnANewConnectionWhenThePooledOneWasClosed() throws Exception {
    try (Http1Client client = client()) {
      assertThat(text(client.send("GET", "/a", Headers.empty(), Body.empty()))).isEqualTo("answer 1");
      awaitServerClosed(1); // the server has closed the pooled connection
      Response second = client.send("GET", "/b", Headers.empty(), Body.empty());
      assertThat(second.status()).isEqualTo(200);
      assertThat(text(second)).isEqualTo("answer 2");
      assertThat(connections).hasValue(2);
    }
  }

  @Test
  void aStreamingBodyNeverGoesOutOnAConnectionTheServerClosed() throws Exception {
    try (Http1Client client = client()) {
      assertThat(text(client.send("GET", "/a", Headers.empty(), Body.empty()))).isEqualTo("answer 1");
      awaitServerClosed(1);
      // A body read from the client as it arrives cannot be sent twice: the pool must check the
      // connection before handing it out, however recently it was used.
      byte[] upload = "x".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
      Body streaming = Body.ofStream(new ByteArrayInputStream(upload), -1);
      Response second = client.send("POST", "/upload", Headers.empty(), streaming);
      assertThat(second.status()).isEqualTo(200);
      assertThat(text(second)).isEqualTo("answer 2");
      assertThat(connections).hasValue(2);
    }
  }

  @Test
  void theHeadCarriesTheFieldsAndNeverACharacterThatCouldEndALine() throws Exception {
    try (Http1Client client = client()) {
      Headers fields = Headers.builder()
          .add("X-Plain", "a b")
          .add("X-Beyond-Latin-1", "x\u010Ay\u010Dz\u20ACw") // low bytes 0A and 0D: LF and CR
          .add("x-latin-1", "caf\u00e9")
          .add("CONNECTION", "keep-alive") // the codec's own fields are never copied, in any case
          .add("Content-Length", "99")
          .build();
      assertThat(client.send("GET", "/path?q=1", fields, Body.empty()).status()).isEqualTo(200);
      byte[] head = heads.poll(5, TimeUnit.SECONDS);
      assertThat(head).isNotNull();
      String text = new String(head, StandardCharsets.ISO_8859_1);
      assertThat(text).isEqualTo("GET /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:" + server.getLocalPort() + "\r\n"
          + "X-Plain: a b\r\nX-Beyond-Latin-1: x?y?z?w\r\nx-latin-1: caf\u00e9\r\n\r\n");
    }
  }

  @Test
  void aPostThatWentOutWholeIsNotSentAgainWhenTheConnectionClosesWithoutAnAnswer() throws Exception {
    dropSecondRequest = true;
    try (Http1Client client = client()) {
      assertThat(text(client.send("GET", "/a", Headers.empty(), Body.empty()))).isEqualTo("answer 1");
      methodsSeen.clear();
      // The upstream may have acted on it (charged a card, called a tool): a 502, not a second POST.
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> client.send("POST", "/pay", Headers.empty(), Body.of("{\"amount\":1}")))
          .isInstanceOf(Http1Exception.class);
      assertThat(methodsSeen).containsExactly("POST");

      // The same failure for a method that is safe to repeat, or a request with an Idempotency-Key:
      // sent again on a new connection.
      assertThat(text(client.send("GET", "/b", Headers.empty(), Body.empty()))).startsWith("answer");
      methodsSeen.clear();
      // (Each answer is read whole, so that its connection goes back to the pool for the next request.)
      assertThat(text(client.send("PUT", "/doc", Headers.empty(), Body.of("v2")))).startsWith("answer");
      assertThat(methodsSeen).containsExactly("PUT", "PUT");
      methodsSeen.clear();
      assertThat(text(client.send("POST", "/pay", Headers.of("Idempotency-Key", "k-1"), Body.of("{}"))))
          .startsWith("answer");
      assertThat(methodsSeen).containsExactly("POST", "POST");
    }
  }

  @Test
  void bytesAnUpstreamSentUnaskedAreNeverReadAsTheNextAnswer() throws Exception {
    try (Http1Client client = client()) {
      // This upstream sends a body 30 ms after its answer to a HEAD, which HTTP forbids.
      Response head = client.send("HEAD", "/a", Headers.empty(), Body.empty());
      assertThat(head.status()).isEqualTo(200);
      text(head);
      Thread.sleep(80); // the stray bytes have arrived; the upstream still keeps the connection open
      assertThat(text(client.send("GET", "/b", Headers.empty(), Body.empty()))).isEqualTo("answer 2");
      assertThat(connections).as("the connection with stray bytes was not used again").hasValue(2);
    }
  }
}
