package dev.portalgateway.host.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.1 upstream on a raw loopback socket that shows what the gateway does with its
 * keep-alive connections: each accepted connection is numbered, serves requests until the
 * gateway closes it, and records that close. {@code GET /stream} answers one chunk and then holds
 * the response open until {@link #endStreams()}; any other request gets {@code ok}.
 */
public final class KeepAliveUpstream implements AutoCloseable {
  private final ServerSocket server;
  private final List<CountDownLatch> closed = new CopyOnWriteArrayList<>();
  private final CountDownLatch streamsEnd = new CountDownLatch(1);

  public KeepAliveUpstream() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(() -> {
      try {
        while (true) {
          Socket s = server.accept();
          CountDownLatch closedByGateway = new CountDownLatch(1);
          closed.add(closedByGateway);
          Thread.ofVirtual().start(() -> serve(s, closedByGateway));
        }
      } catch (IOException stopped) {
        // closed by the test
      }
    });
  }

  public int port() {
    return server.getLocalPort();
  }

  /** @return connections the gateway opened so far */
  public int connections() {
    return closed.size();
  }

  /** @return whether the gateway closed connection {@code index} (0 is the first) within the wait */
  public boolean awaitClosed(int index, long seconds) throws InterruptedException {
    return closed.get(index).await(seconds, TimeUnit.SECONDS);
  }

  /** @return whether the gateway has closed connection {@code index} by now */
  public boolean isClosed(int index) {
    return closed.get(index).getCount() == 0;
  }

  /** Lets every held {@code /stream} response finish. */
  public void endStreams() {
    streamsEnd.countDown();
  }

  private void serve(Socket s, CountDownLatch closedByGateway) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        String head = readHead(in);
        if (head == null) {
          closedByGateway.countDown(); // end of stream: the gateway closed it
          return;
        }
        if (head.startsWith("GET /stream ")) {
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "d\r\ndata: first\n\n\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          streamsEnd.await(30, TimeUnit.SECONDS);
          out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } else {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      closedByGateway.countDown(); // reset: closed as well
    }
  }

  /** @return the request head, or {@code null} at end of stream (requests here have no body) */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 4 || sb.charAt(sb.length() - 1) != '\n' || !sb.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      sb.append((char) b);
    }
    return sb.toString();
  }

  @Override
  public void close() throws IOException {
    streamsEnd.countDown();
    server.close();
  }
}
