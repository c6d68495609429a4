package dev.portalgateway.portal.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.portal.client.ConnectionRefusedException;
import dev.portalgateway.portal.client.RelayClient;
import dev.portalgateway.portal.crypto.Handshake;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.crypto.SecureChannel;
import dev.portalgateway.portal.wire.ConnectionRequest;
import dev.portalgateway.portal.wire.ConnectionResponse;
import dev.portalgateway.portal.wire.Identity;
import dev.portalgateway.portal.wire.Lease;
import dev.portalgateway.portal.wire.Packet;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.PacketType;
import dev.portalgateway.portal.wire.ResponseCode;
import dev.portalgateway.portal.ws.WebSocketByteStream;
import dev.portalgateway.portal.yamux.YamuxSession;
import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** DevRelay's lease rules and connection forwarding, driven by hand-written holders. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DevRelayTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private DevRelay relay;
  private RawHolder holder;
  private RelayClient client;
  private final PortalIdentity owner = PortalIdentity.generate();
  private final PortalIdentity clientIdentity = PortalIdentity.generate();

  @BeforeEach
  void setUp() throws IOException {
    relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
    holder = RawHolder.connect(relay.url());
    client = RelayClient.connect(relay.url(), TIMEOUT);
  }

  @AfterEach
  void tearDown() {
    client.close();
    holder.close();
    relay.close();
  }

  @Test
  void acceptsALeaseSignedByItsOwnKey() throws IOException {
    assertThat(holder.update(owner, RawHolder.lease(owner, "svc"))).isEqualTo(ResponseCode.ACCEPTED);

    assertThat(client.relayInfo(TIMEOUT).leases()).extracting(Lease::name).containsExactly("svc");
    assertThat(relay.url().toString()).isEqualTo("ws://127.0.0.1:" + relay.port() + "/relay");
  }

  @Test
  void refusesLeasesThatAreNotProperlySignedOrValid() throws IOException {
    PortalIdentity other = PortalIdentity.generate();
    long now = Instant.now().getEpochSecond();
    Identity forgedId = new Identity(other.id(), owner.rawPublicKey());
    List<String> alpns = List.of("http/1.1");

    assertThat(holder.update(other, RawHolder.lease(owner, "svc"))).isEqualTo(ResponseCode.INVALID_IDENTITY);
    assertThat(holder.update(owner, new Lease(forgedId, now + 30, "svc", alpns, "")))
        .isEqualTo(ResponseCode.INVALID_IDENTITY);
    assertThat(holder.update(owner, new Lease(owner.toIdentity(), now - 1, "svc", alpns, "")))
        .isEqualTo(ResponseCode.INVALID_EXPIRES);
    assertThat(holder.update(owner, new Lease(owner.toIdentity(), now + 30, "", alpns, "")))
        .isEqualTo(ResponseCode.INVALID_NAME);
    assertThat(holder.update(owner, new Lease(owner.toIdentity(), now + 30, "a b", alpns, "")))
        .isEqualTo(ResponseCode.INVALID_NAME);
    assertThat(holder.update(owner, new Lease(owner.toIdentity(), now + 30, "svc", List.of(), "")))
        .isEqualTo(ResponseCode.INVALID_ALPN);
    assertThat(client.relayInfo(TIMEOUT).leases()).isEmpty();
  }

  @Test
  void aNameBelongsToOneKeyAtATime() throws IOException {
    PortalIdentity other = PortalIdentity.generate();
    assertThat(holder.update(owner, RawHolder.lease(owner, "svc"))).isEqualTo(ResponseCode.ACCEPTED);

    assertThat(holder.update(other, RawHolder.lease(other, "svc"))).isEqualTo(ResponseCode.INVALID_NAME);
    // Renewing one's own lease is not a clash.
    assertThat(holder.update(owner, RawHolder.lease(owner, "svc"))).isEqualTo(ResponseCode.ACCEPTED);
  }

  @Test
  void deleteRemovesTheLease() throws IOException {
    holder.update(owner, RawHolder.lease(owner, "svc"));

    assertThat(holder.delete(owner, owner.toIdentity())).isEqualTo(ResponseCode.ACCEPTED);
    assertThat(client.relayInfo(TIMEOUT).leases()).isEmpty();
    assertThat(holder.delete(owner, owner.toIdentity())).isEqualTo(ResponseCode.INVALID_IDENTITY);
  }

  @Test
  void leaseExpires() throws Exception {
    long soon = Instant.now().getEpochSecond() + 1;
    holder.update(owner, new Lease(owner.toIdentity(), soon, "svc", List.of("http/1.1"), ""));

    waitUntil(() -> client.relayInfo(TIMEOUT).leases().isEmpty());
    assertThatThrownBy(() -> client.open(owner.id(), clientIdentity, "http/1.1", TIMEOUT))
        .isInstanceOfSatisfying(ConnectionRefusedException.class,
            e -> assertThat(e.code()).isEqualTo(ResponseCode.INVALID_IDENTITY));
  }

  @Test
  void leaseEndsWithItsSession() throws Exception {
    holder.update(owner, RawHolder.lease(owner, "svc"));

    holder.close();

    waitUntil(() -> client.relayInfo(TIMEOUT).leases().isEmpty());
  }

  @Test
  void holdersRefusalReachesTheClient() throws Exception {
    holder.update(owner, RawHolder.lease(owner, "svc"));
    CompletableFuture<Void> holderSide = CompletableFuture.runAsync(() -> {
      try {
        RawHolder.answer(holder.acceptConnection(), ResponseCode.REJECTED);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    assertThatThrownBy(() -> client.open(owner.id(), clientIdentity, "http/1.1", TIMEOUT))
        .isInstanceOfSatisfying(ConnectionRefusedException.class,
            e -> assertThat(e.code()).isEqualTo(ResponseCode.REJECTED));
    holderSide.get(5, TimeUnit.SECONDS);
  }

  @Test
  void openGivesUpWhenTheHolderNeverCompletesTheHandshake() throws Exception {
    holder.update(owner, RawHolder.lease(owner, "svc"));
    CompletableFuture<YamuxStream> holderSide = CompletableFuture.supplyAsync(() -> {
      try {
        YamuxStream stream = holder.acceptConnection();
        RawHolder.answer(stream, ResponseCode.ACCEPTED);
        return stream;
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    long start = System.nanoTime();
    assertThatThrownBy(() -> client.open(owner.id(), clientIdentity, "http/1.1", Duration.ofSeconds(1)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("timed out");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    // The client reset its stream; the relay passes that on to the holder.
    YamuxStream stream = holderSide.get(5, TimeUnit.SECONDS);
    assertThatThrownBy(() -> stream.getInputStream().readAllBytes()).isInstanceOf(IOException.class);
  }

  @Test
  void closingTheChannelEndsTheHoldersStream() throws Exception {
    holder.update(owner, RawHolder.lease(owner, "svc"));
    CompletableFuture<String> holderSide = CompletableFuture.supplyAsync(() -> {
      try {
        YamuxStream stream = holder.acceptConnection();
        RawHolder.answer(stream, ResponseCode.ACCEPTED);
        SecureChannel channel = new Handshake().server(stream.getInputStream(), stream.getOutputStream(), owner,
            List.of("http/1.1"));
        return new String(channel.input().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    SecureChannel channel = client.open(owner.id(), clientIdentity, "http/1.1", TIMEOUT);
    channel.output().write("bye".getBytes(StandardCharsets.UTF_8));
    channel.output().flush();
    channel.close();

    assertThat(holderSide.get(5, TimeUnit.SECONDS)).isEqualTo("bye");
  }

  @Test
  void spliceCarriesHalfClosesBothWays() throws Exception {
    holder.update(owner, RawHolder.lease(owner, "svc"));
    CompletableFuture<String> holderSide = CompletableFuture.supplyAsync(() -> {
      try {
        YamuxStream stream = holder.acceptConnection();
        RawHolder.answer(stream, ResponseCode.ACCEPTED);
        String request = new String(stream.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        stream.getOutputStream().write(("echo:" + request).getBytes(StandardCharsets.UTF_8));
        stream.closeOutput();
        return request;
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    WebSocketByteStream socket = WebSocketByteStream.connect(relay.url(), TIMEOUT);
    YamuxSession session = YamuxSession.client(socket.getInputStream(), socket.getOutputStream(), socket);
    try {
      YamuxStream stream = session.openStream();
      PacketFraming.writePacket(stream.getOutputStream(), Packet.of(PacketType.CONNECTION_REQUEST,
          new ConnectionRequest(owner.id(), clientIdentity.toIdentity())));
      Packet answer = PacketFraming.readPacket(stream.getInputStream());
      assertThat(ConnectionResponse.decode(answer.payload()).code()).isEqualTo(ResponseCode.ACCEPTED);
      stream.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
      stream.closeOutput();

      assertThat(new String(stream.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("echo:ping");
      assertThat(holderSide.get(5, TimeUnit.SECONDS)).isEqualTo("ping");
    } finally {
      session.close();
      socket.close();
    }
  }

  @FunctionalInterface
  private interface Condition {
    boolean holds() throws Exception;
  }

  private static void waitUntil(Condition condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(50);
    }
  }
}
