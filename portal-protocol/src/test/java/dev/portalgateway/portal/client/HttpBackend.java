package dev.portalgateway.portal.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A tiny HTTP/1.1 server on loopback for end-to-end tests: answers every request with
 * {@link #bodyFor} of its path and closes the connection.
 */
public final class HttpBackend implements AutoCloseable {
  private final ServerSocket server;

  public HttpBackend() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("http-backend").start(this::acceptLoop);
  }

  /** Where the backend listens. */
  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
  }

  /** The body the backend answers for {@code path}: {@code /big/N} is N times 'x'. */
  public static String bodyFor(String path) {
    if (path.startsWith("/big/")) {
      return "x".repeat(Integer.parseInt(path.substring("/big/".length())));
    }
    return "hello " + path;
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  private void acceptLoop() {
    try {
      while (true) {
        Socket socket = server.accept();
        Thread.ofVirtual().name("http-backend-conn").start(() -> serve(socket));
      }
    } catch (IOException e) {
      // Closed.
    }
  }

  private static void serve(Socket socket) {
    try (socket) {
      String head = readHead(socket.getInputStream());
      String path = head.split(" ", 3)[1];
      byte[] body = bodyFor(path).getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
    } catch (IOException | RuntimeException e) {
      // A broken test connection; the test itself reports it.
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    int b;
    while (matched < 4 && (b = in.read()) >= 0) {
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.US_ASCII);
  }
}
