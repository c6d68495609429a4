package dev.portalgateway.portal.yamux;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The yamux contract over a loopback TCP socket pair. */
class SocketYamuxSessionTest extends YamuxSessionContract {

  private Socket clientSocket;
  private Socket serverSocket;

  @Override
  protected void connect(YamuxConfig config) throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          return listener.accept();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      clientSocket = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
      serverSocket = accepted.get(5, TimeUnit.SECONDS);
    }
    clientSocket.setTcpNoDelay(true);
    serverSocket.setTcpNoDelay(true);
    client = new YamuxSession(clientSocket.getInputStream(), clientSocket.getOutputStream(), clientSocket,
        YamuxSession.Role.CLIENT, config, "test-client").start();
    server = new YamuxSession(serverSocket.getInputStream(), serverSocket.getOutputStream(), serverSocket,
        YamuxSession.Role.SERVER, config, "test-server").start();
  }

  @Override
  protected void dropTransport() throws Exception {
    // Abortive close (RST) of the server's socket, without any yamux goodbye.
    serverSocket.setSoLinger(true, 0);
    serverSocket.close();
  }

  @Override
  protected void disconnect() throws Exception {
    clientSocket.close();
    serverSocket.close();
  }
}
