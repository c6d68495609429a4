package dev.portalgateway.portal.yamux;

import dev.portalgateway.portal.ws.RelayWebSocketServer;
import dev.portalgateway.portal.ws.WebSocketByteStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The yamux contract over a real WebSocket on 127.0.0.1 (our relay server and client). */
class WebSocketYamuxSessionTest extends YamuxSessionContract {

  private RelayWebSocketServer relay;
  private WebSocketByteStream clientStream;
  private WebSocketByteStream serverStream;

  @Override
  protected void connect(YamuxConfig config) throws Exception {
    CompletableFuture<WebSocketByteStream> accepted = new CompletableFuture<>();
    relay = new RelayWebSocketServer(new InetSocketAddress("127.0.0.1", 0), accepted::complete)
        .startAndWait(Duration.ofSeconds(5));
    clientStream = WebSocketByteStream.connect(
        URI.create("ws://127.0.0.1:" + relay.getPort() + RelayWebSocketServer.PATH), Duration.ofSeconds(5));
    serverStream = accepted.get(5, TimeUnit.SECONDS);
    client = new YamuxSession(clientStream.getInputStream(), clientStream.getOutputStream(), clientStream,
        YamuxSession.Role.CLIENT, config, "ws-client").start();
    server = new YamuxSession(serverStream.getInputStream(), serverStream.getOutputStream(), serverStream,
        YamuxSession.Role.SERVER, config, "ws-server").start();
  }

  @Override
  protected void dropTransport() throws Exception {
    // Stop the whole relay: its connections go away under the client session.
    relay.shutdown(Duration.ofSeconds(2));
  }

  @Override
  protected void disconnect() {
    clientStream.close();
    relay.shutdown(Duration.ofSeconds(2));
  }
}
