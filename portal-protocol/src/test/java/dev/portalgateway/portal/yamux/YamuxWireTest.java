package dev.portalgateway.portal.yamux;

import static dev.portalgateway.portal.yamux.YamuxHeader.FLAG_ACK;
import static dev.portalgateway.portal.yamux.YamuxHeader.FLAG_FIN;
import static dev.portalgateway.portal.yamux.YamuxHeader.FLAG_SYN;
import static dev.portalgateway.portal.yamux.YamuxHeader.TYPE_DATA;
import static dev.portalgateway.portal.yamux.YamuxHeader.TYPE_GO_AWAY;
import static dev.portalgateway.portal.yamux.YamuxHeader.TYPE_PING;
import static dev.portalgateway.portal.yamux.YamuxHeader.TYPE_WINDOW_UPDATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Frame-level tests: our client session against a peer that writes and reads hand-made bytes the
 * way the Go relay (hashicorp/yamux server) does.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class YamuxWireTest {

  private static final int WINDOW = YamuxConfig.INITIAL_STREAM_WINDOW;

  private Socket ours;
  private Socket peer;
  private DataInputStream peerIn;
  private OutputStream peerOut;
  private YamuxSession session;

  private void start(YamuxConfig config) throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          return listener.accept();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      ours = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
      peer = accepted.get(5, TimeUnit.SECONDS);
    }
    ours.setTcpNoDelay(true);
    peer.setTcpNoDelay(true);
    peer.setSoTimeout(5000);
    peerIn = new DataInputStream(peer.getInputStream());
    peerOut = peer.getOutputStream();
    session = new YamuxSession(ours.getInputStream(), ours.getOutputStream(), ours,
        YamuxSession.Role.CLIENT, config, "wire-test").start();
  }

  private void start() throws Exception {
    start(YamuxConfig.defaults().withKeepalive(Duration.ZERO, Duration.ofSeconds(5)));
  }

  @AfterEach
  void tearDown() throws IOException {
    if (session != null) {
      session.close();
    }
    if (peer != null) {
      peer.close();
    }
  }

  private static byte[] header(int type, int flags, int stream, int length) {
    return YamuxHeader.of(type, flags, stream, length).encode();
  }

  /** Sends bytes in separate TCP writes, pausing so the pieces really arrive apart. */
  private void sendInPieces(byte[] bytes, int... cuts) throws Exception {
    int from = 0;
    for (int cut : cuts) {
      peerOut.write(bytes, from, cut - from);
      peerOut.flush();
      Thread.sleep(20);
      from = cut;
    }
    peerOut.write(bytes, from, bytes.length - from);
    peerOut.flush();
  }

  private YamuxHeader readHeader() throws IOException {
    byte[] bytes = new byte[YamuxHeader.SIZE];
    peerIn.readFully(bytes);
    return YamuxHeader.decode(bytes, 0);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void openStreamSendsWindowUpdateSynWithIncrementZero() throws Exception {
    start();
    YamuxStream stream = session.openStream();
    byte[] wire = new byte[12];
    peerIn.readFully(wire);
    assertThat(HexFormat.of().formatHex(wire)).isEqualTo("000100010000000100000000");
    stream.getOutputStream().write("hi".getBytes(StandardCharsets.US_ASCII));
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_DATA, 0, 1, 2));
    assertThat(peerIn.readNBytes(2)).isEqualTo("hi".getBytes(StandardCharsets.US_ASCII));
    stream.closeOutput();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
  }

  @Test
  void windowUpdateSynOpensAStreamAndAcceptAnswersAck() throws Exception {
    start();
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0));
    peerOut.flush();
    YamuxStream stream = session.acceptStream();
    assertThat(stream.id()).isEqualTo(2);
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_ACK, 2, 0));
    stream.getOutputStream().write(5);
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_DATA, 0, 2, 1));
    assertThat(peerIn.read()).isEqualTo(5);
  }

  @Test
  void headerAndBodyMayArriveInPiecesSplitAnywhere() throws Exception {
    start();
    byte[] body = "hello, yamux world".getBytes(StandardCharsets.US_ASCII);
    byte[] frames = concat(concat(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0), header(TYPE_DATA, 0, 2, body.length)),
        concat(body, header(TYPE_DATA, FLAG_FIN, 2, 0)));
    // Cuts inside the first header, across the header boundary, inside the second header,
    // between header and body (the Go side writes them separately), and inside the body.
    sendInPieces(frames, 3, 13, 17, 24, 27, 31, 42);
    YamuxStream stream = session.acceptStream();
    assertThat(new String(stream.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
        .isEqualTo("hello, yamux world");
  }

  @Test
  void pingSynIsAnsweredWithPingAckEchoingTheValue() throws Exception {
    start();
    sendInPieces(header(TYPE_PING, FLAG_SYN, 0, 0xCAFEBABE), 5);
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_PING, FLAG_ACK, 0, 0xCAFEBABE));
  }

  @Test
  void ourPingExpectsAckWithTheSameValue() throws Exception {
    start();
    CompletableFuture<Duration> rtt = CompletableFuture.supplyAsync(() -> {
      try {
        return session.ping();
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    YamuxHeader ping = readHeader();
    assertThat(ping.type()).isEqualTo(TYPE_PING);
    assertThat(ping.flags()).isEqualTo(FLAG_SYN);
    assertThat(ping.streamId()).isZero();
    Thread.sleep(50);
    peerOut.write(header(TYPE_PING, FLAG_ACK, 0, ping.length()));
    peerOut.flush();
    assertThat(rtt.get(5, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
  }

  @Test
  void unansweredKeepaliveEndsTheSession() throws Exception {
    start(YamuxConfig.defaults().withKeepalive(Duration.ofMillis(100), Duration.ofMillis(300)));
    YamuxStream stream = session.openStream();
    // The peer reads our frames but never answers pings.
    Thread.ofVirtual().start(() -> {
      try {
        peerIn.transferTo(OutputStream.nullOutputStream());
      } catch (IOException ignored) {
        // socket closed
      }
    });
    assertThatThrownBy(() -> session.closeFuture().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("keepalive");
    assertThatThrownBy(() -> stream.getInputStream().read()).isInstanceOf(IOException.class);
  }

  @Test
  void exceedingTheReceiveWindowIsAProtocolError() throws Exception {
    start();
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0));
    peerOut.write(header(TYPE_DATA, 0, 2, WINDOW + 1));
    try {
      peerOut.write(new byte[WINDOW + 1]);
      peerOut.flush();
    } catch (IOException closedEarly) {
      // The session may refuse the frame from its header and close before the payload is in.
    }
    // We may or may not have ACKed first (no acceptStream here); skip to the GoAway.
    YamuxHeader frame = readHeader();
    while (frame.type() != TYPE_GO_AWAY) {
      frame = readHeader();
    }
    assertThat(frame).isEqualTo(YamuxHeader.of(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_PROTOCOL_ERROR));
    assertThatThrownBy(() -> session.closeFuture().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("receive window exceeded");
    assertThat(peerIn.read()).isEqualTo(-1);
  }

  @Test
  void dataUpToTheWindowIsFineAndCreditReturnsAfterHalfIsConsumed() throws Exception {
    start();
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0));
    peerOut.write(header(TYPE_DATA, 0, 2, WINDOW));
    peerOut.write(new byte[WINDOW]);
    peerOut.flush();
    YamuxStream stream = session.acceptStream();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_ACK, 2, 0));
    assertThat(stream.getInputStream().readNBytes(WINDOW / 2 - 1)).hasSize(WINDOW / 2 - 1);
    peer.setSoTimeout(200);
    assertThatThrownBy(() -> peerIn.read()).isInstanceOf(SocketTimeoutException.class);
    peer.setSoTimeout(5000);
    assertThat(stream.getInputStream().read()).isZero();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, 0, 2, WINDOW / 2));
  }

  @Test
  void senderStopsAtThePeersWindowUntilAWindowUpdateArrives() throws Exception {
    start();
    YamuxStream stream = session.openStream();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_SYN, 1, 0));
    int total = WINDOW + 1000;
    CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
      try {
        stream.getOutputStream().write(new byte[total]);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    long received = 0;
    while (received < WINDOW) {
      YamuxHeader frame = readHeader();
      assertThat(frame.type()).isEqualTo(TYPE_DATA);
      peerIn.skipNBytes(frame.length());
      received += frame.length();
    }
    assertThat(received).isEqualTo(WINDOW);
    peer.setSoTimeout(200);
    assertThatThrownBy(() -> peerIn.read()).isInstanceOf(SocketTimeoutException.class);
    assertThat(written).isNotDone();
    peer.setSoTimeout(5000);
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_ACK, 1, 1000));
    peerOut.flush();
    YamuxHeader rest = readHeader();
    assertThat(rest).isEqualTo(YamuxHeader.of(TYPE_DATA, 0, 1, 1000));
    peerIn.skipNBytes(1000);
    written.get(5, TimeUnit.SECONDS);
  }

  @Test
  void receivedGoAwayRefusesNewStreams() throws Exception {
    start();
    peerOut.write(header(TYPE_GO_AWAY, 0, 0, 0));
    peerOut.flush();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!session.isRemoteGoAway() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThatThrownBy(session::openStream).isInstanceOf(IOException.class).hasMessageContaining("GoAway");
  }

  @Test
  void closeSendsGoAwayNormal() throws Exception {
    start();
    session.close();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_NORMAL));
    assertThat(peerIn.read()).isEqualTo(-1);
    assertThat(session.closeFuture()).isCompleted();
  }

  @Test
  void peerResetAndFinAreHonoured() throws Exception {
    start();
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0));
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 4, 0));
    peerOut.flush();
    YamuxStream first = session.acceptStream();
    YamuxStream second = session.acceptStream();
    peerOut.write(header(TYPE_DATA, FLAG_FIN, 2, 0));
    peerOut.write(header(TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, 4, 0));
    peerOut.flush();
    assertThat(first.getInputStream().read()).isEqualTo(-1);
    assertThatThrownBy(() -> second.getInputStream().read()).isInstanceOf(IOException.class)
        .hasMessageContaining("reset by peer");
  }

  @Test
  void badVersionIsAProtocolError() throws Exception {
    start();
    byte[] bad = header(TYPE_PING, FLAG_SYN, 0, 1);
    bad[0] = 1;
    peerOut.write(bad);
    peerOut.flush();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_PROTOCOL_ERROR));
  }

  @Test
  void errorGoAwayFromThePeerEndsTheSession() throws Exception {
    start();
    peerOut.write(header(TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_INTERNAL_ERROR));
    peerOut.flush();
    assertThatThrownBy(() -> session.closeFuture().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("internal error");
    assertThat(session.remoteGoAwayCode()).isEqualTo(YamuxHeader.GO_AWAY_INTERNAL_ERROR);
  }

  @Test
  void dataForAnUnknownStreamIsDiscardedAndTheSessionGoesOn() throws Exception {
    start();
    peerOut.write(header(TYPE_DATA, 0, 40, 5));
    peerOut.write(new byte[] {1, 2, 3, 4, 5});
    peerOut.write(header(TYPE_WINDOW_UPDATE, 0, 42, 100));
    peerOut.write(header(TYPE_PING, FLAG_SYN, 0, 9));
    peerOut.flush();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_PING, FLAG_ACK, 0, 9));
    assertThat(session.isClosed()).isFalse();
  }

  @Test
  void duplicateSynIsAProtocolError() throws Exception {
    start();
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0));
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_SYN, 2, 0));
    peerOut.flush();
    YamuxHeader frame = readHeader();
    while (frame.type() != TYPE_GO_AWAY) {
      frame = readHeader();
    }
    assertThat(frame.length()).isEqualTo(YamuxHeader.GO_AWAY_PROTOCOL_ERROR);
  }

  @Test
  void finIsSentOnlyOnceAndNeverAfterReset() throws Exception {
    start();
    YamuxStream stream = session.openStream();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_SYN, 1, 0));
    stream.closeOutput();
    stream.closeOutput();
    stream.close();
    stream.reset();
    stream.reset();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, 1, 0));
    session.openStream();
    // The next frame is the next stream's SYN: no second FIN or RST in between.
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_SYN, 3, 0));
  }

  @Test
  void closingAStreamWithUnreadDataSendsItsFinAndNoWindowUpdateForTheDiscardedBytes() throws Exception {
    start();
    YamuxStream stream = session.openStream();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_SYN, 1, 0));
    byte[] data = new byte[WINDOW / 2 + 1]; // more than half the window: reading it would earn credit
    peerOut.write(concat(header(TYPE_DATA, FLAG_ACK, 1, data.length), data));
    peerOut.flush();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (stream.bufferedBytes() < data.length && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(stream.bufferedBytes()).isEqualTo(data.length);

    stream.close(); // what the gateway does with a pooled connection it gives up
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
    peerOut.write(header(TYPE_PING, FLAG_SYN, 0, 78));
    peerOut.flush();
    // Closed on both sides: the peer has forgotten the stream, so nothing more may come for it
    // (Go logs "frame for missing stream"). The next frame is the ping's answer.
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_PING, FLAG_ACK, 0, 78));
  }

  @Test
  void closedStreamWithoutPeerFinIsResetAfterTheCloseTimeout() throws Exception {
    start(YamuxConfig.defaults().withKeepalive(Duration.ZERO, Duration.ofSeconds(5))
        .withStreamCloseTimeout(Duration.ofMillis(200)));
    YamuxStream lingering = session.openStream();
    YamuxStream answered = session.openStream();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_SYN, 1, 0));
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_SYN, 3, 0));
    lingering.close();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_FIN, 1, 0));
    answered.close();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, FLAG_FIN, 3, 0));
    peerOut.write(header(TYPE_WINDOW_UPDATE, FLAG_ACK | FLAG_FIN, 3, 0));
    peerOut.flush();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, 1, 0));
    // Stream 3 was closed by both sides: no RST for it.
    peerOut.write(header(TYPE_PING, FLAG_SYN, 0, 77));
    peerOut.flush();
    assertThat(readHeader()).isEqualTo(YamuxHeader.of(TYPE_PING, FLAG_ACK, 0, 77));
    assertThat(session.streamCount()).isZero();
  }

  @Test
  void aTransportWriteBlockedLongerThanTheWriteTimeoutKillsTheSession() throws Exception {
    start(YamuxConfig.defaults().withKeepalive(Duration.ofHours(1), Duration.ofSeconds(5))
        .withWriteTimeout(Duration.ofMillis(300)));
    // The peer never reads: once the socket buffers are full, a transport write blocks.
    byte[] window = new byte[WINDOW];
    for (int i = 0; i < 200 && !session.isClosed(); i++) {
      YamuxStream stream;
      try {
        stream = session.openStream();
      } catch (IOException sessionAlreadyDead) {
        break;
      }
      Thread.ofVirtual().start(() -> {
        try {
          stream.getOutputStream().write(window);
        } catch (IOException expected) {
          // the session dies under us
        }
      });
    }
    assertThatThrownBy(() -> session.closeFuture().get(15, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("write blocked");
  }
}
