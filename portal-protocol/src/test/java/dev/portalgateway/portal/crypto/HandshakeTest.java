package dev.portalgateway.portal.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.portal.crypto.HandshakeException.Reason;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.SignedPayload;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Client and server handshakes against each other over a loopback socket pair. */
class HandshakeTest {
  private static final List<String> TUNNEL_ALPNS = List.of("http/1.1", "h2");

  private final PortalIdentity clientIdentity = PortalIdentity.generate();
  private final PortalIdentity leaseIdentity = PortalIdentity.generate();
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private Socket clientSocket;
  private Socket serverSocket;

  @BeforeEach
  void connect() throws IOException {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      clientSocket = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
      serverSocket = listener.accept();
    }
    clientSocket.setSoTimeout(10_000);
    serverSocket.setSoTimeout(10_000);
  }

  @AfterEach
  void close() throws IOException {
    executor.shutdownNow();
    clientSocket.close();
    serverSocket.close();
  }

  private Future<SecureChannel> serve(Handshake handshake, PortalIdentity identity) {
    return executor.submit(() -> handshake.server(serverSocket.getInputStream(), serverSocket.getOutputStream(),
        identity, TUNNEL_ALPNS));
  }

  private SecureChannel connectClient(Handshake handshake, String leaseId, String alpn) throws IOException {
    return handshake.client(clientSocket.getInputStream(), clientSocket.getOutputStream(), clientIdentity,
        leaseId, alpn);
  }

  @Test
  void handshakeThenBytesFlowBothWays() throws Exception {
    Future<SecureChannel> server = serve(new Handshake(), leaseIdentity);

    SecureChannel client = connectClient(new Handshake(), leaseIdentity.id(), "http/1.1");
    SecureChannel accepted = server.get(10, TimeUnit.SECONDS);

    assertThat(client.peerIdentity()).isEqualTo(leaseIdentity.toIdentity());
    assertThat(accepted.peerIdentity()).isEqualTo(clientIdentity.toIdentity());
    assertThat(accepted.alpn()).isEqualTo("http/1.1");

    client.output().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(accepted.input().readNBytes(18), StandardCharsets.UTF_8))
        .isEqualTo("GET / HTTP/1.1\r\n\r\n");
    accepted.output().write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(client.input().readNBytes(17), StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200 OK\r\n");

    // Closing one side ends the other side's stream at a frame boundary.
    accepted.close();
    assertThat(client.input().read()).isEqualTo(-1);
  }

  @Test
  void serverWithAnotherKeyThanTheLeaseFailsOnTheClient() {
    PortalIdentity impostor = PortalIdentity.generate();
    serve(new Handshake(), impostor);

    assertThatThrownBy(() -> connectClient(new Handshake(), leaseIdentity.id(), "http/1.1"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.IDENTITY_MISMATCH));
  }

  @Test
  void staleClientTimestampIsRejectedByTheServerWithoutAReply() {
    Clock past = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-31));
    Future<SecureChannel> server = serve(new Handshake(), leaseIdentity);

    assertThatThrownBy(() -> connectClient(new Handshake(past, new SecureRandom()), leaseIdentity.id(), "http/1.1"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_LOST));
    assertThatThrownBy(() -> server.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.STALE_TIMESTAMP));
  }

  @Test
  void staleServerTimestampIsRejectedByTheClient() {
    answerWith(leaseIdentity, Instant.now().getEpochSecond() - 100, "http/1.1");

    assertThatThrownBy(() -> connectClient(new Handshake(), leaseIdentity.id(), "http/1.1"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.STALE_TIMESTAMP));
  }

  @Test
  void wrongAlpnIsRejectedByTheServer() {
    Future<SecureChannel> server = serve(new Handshake(), leaseIdentity);

    assertThatThrownBy(() -> connectClient(new Handshake(), leaseIdentity.id(), "h3"))
        .isInstanceOf(HandshakeException.class);
    assertThatThrownBy(() -> server.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.ALPN_MISMATCH));
  }

  @Test
  void serverAnsweringAnotherAlpnIsRejectedByTheClient() {
    answerWith(leaseIdentity, Instant.now().getEpochSecond(), "h2");

    assertThatThrownBy(() -> connectClient(new Handshake(), leaseIdentity.id(), "http/1.1"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.ALPN_MISMATCH));
  }

  @Test
  void forgedClientSignatureIsRejectedByTheServer() throws Exception {
    Future<SecureChannel> server = serve(new Handshake(), leaseIdentity);
    SignedPayload genuine = Handshake.signedInit(clientIdentity, X25519.generate(new SecureRandom()),
        new byte[12], Instant.now().getEpochSecond(), "http/1.1");
    byte[] signature = genuine.signature();
    signature[0] ^= 1;

    PacketFraming.write(clientSocket.getOutputStream(), new SignedPayload(genuine.data(), signature).encode());

    assertThatThrownBy(() -> server.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_SIGNATURE));
    assertThat(clientSocket.getInputStream().read()).isEqualTo(-1);
  }

  /** A scripted server that reads the client init and answers with the given fields. */
  private void answerWith(PortalIdentity identity, long timestamp, String alpn) {
    executor.submit(() -> {
      PacketFraming.read(serverSocket.getInputStream());
      SignedPayload reply = Handshake.signedInit(identity, X25519.generate(new SecureRandom()), new byte[12],
          timestamp, alpn);
      PacketFraming.write(serverSocket.getOutputStream(), reply.encode());
      return null;
    });
  }
}
