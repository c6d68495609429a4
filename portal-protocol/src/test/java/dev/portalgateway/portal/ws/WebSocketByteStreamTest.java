package dev.portalgateway.portal.ws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** WebSocketByteStream over a real WebSocket on 127.0.0.1, client and relay server side. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WebSocketByteStreamTest {

  private RelayWebSocketServer relay;
  private CompletableFuture<WebSocketByteStream> accepted;
  private WebSocketByteStream client;

  @BeforeEach
  void setUp() throws Exception {
    accepted = new CompletableFuture<>();
    relay = new RelayWebSocketServer(new InetSocketAddress("127.0.0.1", 0), accepted::complete)
        .startAndWait(Duration.ofSeconds(5));
  }

  @AfterEach
  void tearDown() {
    if (client != null) {
      client.close();
    }
    relay.shutdown(Duration.ofSeconds(2));
  }

  private URI relayUri(String path) {
    return URI.create("ws://127.0.0.1:" + relay.getPort() + path);
  }

  private WebSocketByteStream connectClient() throws Exception {
    client = WebSocketByteStream.connect(relayUri(RelayWebSocketServer.PATH), Duration.ofSeconds(5));
    return client;
  }

  @Test
  void binaryMessagesConcatenateIntoOneStreamWhateverTheBoundaries() throws Exception {
    connectClient();
    WebSocketByteStream server = accepted.get(5, TimeUnit.SECONDS);
    // Like the Go side: a 12-byte header as one message, its body as another, then odd splits.
    server.getOutputStream().write(new byte[] {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3});
    server.getOutputStream().write(new byte[] {'a', 'b', 'c'});
    server.connection().send(ByteBuffer.wrap(new byte[] {'d'}));
    server.getOutputStream().write(new byte[] {'e', 'f'}, 1, 1);
    byte[] expected = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 'a', 'b', 'c', 'd', 'f'};
    byte[] got = new byte[expected.length];
    InputStream in = client.getInputStream();
    // Read in pieces that cut across message boundaries.
    assertThat(in.readNBytes(got, 0, 5)).isEqualTo(5);
    assertThat(in.readNBytes(got, 5, 9)).isEqualTo(9);
    assertThat(in.readNBytes(got, 14, 3)).isEqualTo(3);
    assertThat(got).isEqualTo(expected);

    client.getOutputStream().write(new byte[] {1, 2});
    client.getOutputStream().write(3);
    assertThat(server.getInputStream().readNBytes(3)).containsExactly(1, 2, 3);
  }

  @Test
  void closeFrameIsEndOfStream() throws Exception {
    connectClient();
    WebSocketByteStream server = accepted.get(5, TimeUnit.SECONDS);
    server.getOutputStream().write(new byte[] {42});
    server.close();
    assertThat(client.getInputStream().readAllBytes()).containsExactly(42);
    assertThat(client.getInputStream().read()).isEqualTo(-1);
    assertThatThrownBy(() -> {
      // Java-WebSocket closes asynchronously; a write soon fails once it has.
      for (int i = 0; i < 200; i++) {
        client.getOutputStream().write(1);
        Thread.sleep(10);
      }
    }).isInstanceOf(IOException.class);
  }

  @Test
  void textMessageIsAProtocolError() throws Exception {
    connectClient();
    WebSocketByteStream server = accepted.get(5, TimeUnit.SECONDS);
    server.connection().send("hello");
    assertThatThrownBy(() -> client.getInputStream().read())
        .isInstanceOf(IOException.class).hasMessageContaining("text message");
  }

  @Test
  void wrongPathIsRefusedWithTheUrlInTheError() {
    URI wrong = relayUri("/nope");
    assertThatThrownBy(() -> WebSocketByteStream.connect(wrong, Duration.ofSeconds(5)))
        .isInstanceOf(IOException.class).hasMessageContaining(wrong.toString());
    assertThat(accepted).isNotDone();
  }

  @Test
  void connectionRefusedFailsQuicklyWithTheUrl() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    URI nobody = URI.create("ws://127.0.0.1:" + port + "/relay");
    long start = System.nanoTime();
    assertThatThrownBy(() -> WebSocketByteStream.connect(nobody, Duration.ofSeconds(5)))
        .isInstanceOf(IOException.class).hasMessageContaining(nobody.toString());
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void slowConsumerBoundsInboundMemoryAndStillGetsEverything() throws Exception {
    connectClient();
    WebSocketByteStream server = accepted.get(5, TimeUnit.SECONDS);
    int total = 24 * 1024 * 1024;
    byte[] chunk = new byte[64 * 1024];
    new Random(3).nextBytes(chunk);
    CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
      try {
        for (int sent = 0; sent < total; sent += chunk.length) {
          server.getOutputStream().write(chunk);
        }
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, r -> Thread.ofVirtual().start(r));
    Thread.sleep(500);
    long maxQueued = client.queuedInboundBytes();
    assertThat(written).isNotDone();
    byte[] buf = new byte[chunk.length];
    long received = 0;
    InputStream in = client.getInputStream();
    while (received < total) {
      maxQueued = Math.max(maxQueued, client.queuedInboundBytes());
      int n = in.readNBytes(buf, 0, buf.length);
      assertThat(buf).isEqualTo(chunk);
      received += n;
    }
    written.get(10, TimeUnit.SECONDS);
    assertThat(maxQueued).isLessThanOrEqualTo(WebSocketByteStream.DEFAULT_MAX_INBOUND_BYTES);
  }

  /**
   * Found by WebSocketFuzzTest.frames: with Java-WebSocket's default limit (2 GiB) ten bytes
   * announcing a large frame made the decoder allocate the whole frame before any of it arrived.
   */
  @Test
  void aFrameLongerThanTheLimitIsRefusedFromItsHeader() {
    byte[] header = {(byte) 0x82, 127, 0, 0, 0, 0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    assertThatThrownBy(() -> WebSocketByteStream.relayDraft().translateFrame(ByteBuffer.wrap(header)))
        .isInstanceOf(org.java_websocket.exceptions.LimitExceededException.class);
    assertThat(WebSocketByteStream.relayDraft().getMaxFrameSize()).isEqualTo(WebSocketByteStream.MAX_MESSAGE_BYTES);
  }

  @Test
  void aMessageLongerThanTheLimitFailsTheStream() throws Exception {
    connectClient();
    WebSocketByteStream server = accepted.get(5, TimeUnit.SECONDS);
    server.connection().send(ByteBuffer.allocate(WebSocketByteStream.MAX_MESSAGE_BYTES + 1));
    assertThatThrownBy(() -> client.getInputStream().read())
        .isInstanceOf(IOException.class).hasMessageContaining("exceeded");
  }

  @Test
  void connectionDroppedWithoutCloseFrameIsAnError() throws Exception {
    connectClient();
    WebSocketByteStream server = accepted.get(5, TimeUnit.SECONDS);
    server.getOutputStream().write(new byte[] {5});
    assertThat(client.getInputStream().read()).isEqualTo(5);
    // What gorilla/websocket's Conn.Close does: drop TCP without a close frame.
    ((org.java_websocket.WebSocketImpl) server.connection()).closeConnection(
        org.java_websocket.framing.CloseFrame.ABNORMAL_CLOSE, "test drop");
    assertThatThrownBy(() -> client.getInputStream().read())
        .isInstanceOf(IOException.class).hasMessageContaining(client.url());
  }
}
