package dev.portalgateway.portal.relay;

import dev.portalgateway.portal.client.StreamDeadline;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.crypto.PortalIds;
import dev.portalgateway.portal.wire.ConnectionRequest;
import dev.portalgateway.portal.wire.ConnectionResponse;
import dev.portalgateway.portal.wire.Identity;
import dev.portalgateway.portal.wire.Lease;
import dev.portalgateway.portal.wire.LeaseDeleteRequest;
import dev.portalgateway.portal.wire.LeaseDeleteResponse;
import dev.portalgateway.portal.wire.LeaseUpdateRequest;
import dev.portalgateway.portal.wire.LeaseUpdateResponse;
import dev.portalgateway.portal.wire.Packet;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.PacketType;
import dev.portalgateway.portal.wire.RelayInfo;
import dev.portalgateway.portal.wire.RelayInfoResponse;
import dev.portalgateway.portal.wire.ResponseCode;
import dev.portalgateway.portal.wire.SignedPayload;
import dev.portalgateway.portal.ws.RelayWebSocketServer;
import dev.portalgateway.portal.ws.WebSocketByteStream;
import dev.portalgateway.portal.yamux.YamuxConfig;
import dev.portalgateway.portal.yamux.YamuxSession;
import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A development relay speaking Portal v1 on {@code ws://HOST:PORT/relay}: lease registration,
 * relay info and connection splicing, enough to run the gateway, a tunnel and tests locally. It is
 * not a replacement for the Go relay (no admin API, no rate limits, no TLS, no persistence).
 *
 * <p>Where it differs from the Go relay at {@code 9a6a5f6}: a lease update with a bad signature
 * gets {@code INVALID_IDENTITY} (Go closes the stream without an answer); an expired lease, a
 * name clash or a bad name or ALPN list get {@code INVALID_EXPIRES}, {@code INVALID_NAME} or
 * {@code INVALID_ALPN} (Go answers {@code REJECTED} and has no name or ALPN rules unless
 * configured); names must be 1 to 63 characters of letters, digits, '-', '_' and '.'.
 */
public final class DevRelay implements AutoCloseable {
  /** How long the lease holder gets to answer a forwarded connection request. */
  private static final Duration HOLDER_ANSWER_TIMEOUT = Duration.ofSeconds(10);
  /** Names longer than a DNS label make no sense as a subdomain, which is what names become. */
  private static final int MAX_NAME_LENGTH = 63;

  private final PortalIdentity identity = PortalIdentity.generate();
  private final Map<String, HeldLease> leases = new ConcurrentHashMap<>();
  private final Set<YamuxSession> sessions = ConcurrentHashMap.newKeySet();
  private final Clock clock;
  private RelayWebSocketServer server;

  /** A registered lease and the session of the tunnel holding it. */
  private record HeldLease(Lease lease, YamuxSession holder) {
  }

  private DevRelay(Clock clock) {
    this.clock = clock;
  }

  /** Starts a relay listening on {@code listen} (port 0 picks a free port). */
  public static DevRelay start(InetSocketAddress listen) throws IOException {
    DevRelay relay = new DevRelay(Clock.systemUTC());
    relay.server = new RelayWebSocketServer(listen, relay::serve).startAndWait(Duration.ofSeconds(10));
    return relay;
  }

  /** The port the relay listens on. */
  public int port() {
    return server.getPort();
  }

  /** The relay's WebSocket URL on the loopback address. */
  public URI url() {
    return URI.create("ws://127.0.0.1:" + port() + RelayWebSocketServer.PATH);
  }

  /** The relay's own identity, as it reports it in relay info. */
  public Identity identity() {
    return identity.toIdentity();
  }

  /** The leases that are live right now. */
  public List<Lease> leases() {
    long now = nowSeconds();
    leases.values().removeIf(held -> held.lease().expires() <= now || held.holder().isClosed());
    return leases.values().stream().map(HeldLease::lease).toList();
  }

  /** Stops listening and ends every session; their leases go with them. */
  @Override
  public void close() {
    server.shutdown(Duration.ofSeconds(2));
    sessions.forEach(YamuxSession::close);
    leases.clear();
  }

  // ---------------------------------------------------------------- sessions

  private void serve(WebSocketByteStream socket) {
    YamuxSession session = new YamuxSession(socket.getInputStream(), socket.getOutputStream(), socket,
        YamuxSession.Role.SERVER, YamuxConfig.defaults(), "dev-relay").start();
    sessions.add(session);
    session.closeFuture().whenComplete((ignored, failure) -> {
      sessions.remove(session);
      leases.values().removeIf(held -> held.holder() == session);
    });
    try {
      while (true) {
        YamuxStream stream = session.acceptStream();
        Thread.ofVirtual().name("dev-relay-stream-" + stream.id()).start(() -> serveStream(session, stream));
      }
    } catch (IOException e) {
      // Session ended; the close future cleans up.
    } finally {
      session.close();
    }
  }

  private void serveStream(YamuxSession session, YamuxStream stream) {
    try {
      Packet packet = PacketFraming.readPacket(stream.getInputStream());
      switch (packet.type()) {
        case RELAY_INFO_REQUEST -> answer(stream, Packet.of(PacketType.RELAY_INFO_RESPONSE,
            new RelayInfoResponse(new RelayInfo(identity.toIdentity(), List.of(url().toString()), leases()))));
        case LEASE_UPDATE_REQUEST -> answer(stream, Packet.of(PacketType.LEASE_UPDATE_RESPONSE,
            new LeaseUpdateResponse(updateLease(session, SignedPayload.decode(packet.payload())))));
        case LEASE_DELETE_REQUEST -> answer(stream, Packet.of(PacketType.LEASE_DELETE_RESPONSE,
            new LeaseDeleteResponse(deleteLease(SignedPayload.decode(packet.payload())))));
        case CONNECTION_REQUEST -> connect(stream, packet);
        default -> stream.reset();
      }
    } catch (IOException e) {
      stream.reset();
    }
  }

  private static void answer(YamuxStream stream, Packet packet) throws IOException {
    PacketFraming.writePacket(stream.getOutputStream(), packet);
    stream.close();
  }

  // ---------------------------------------------------------------- leases

  private ResponseCode updateLease(YamuxSession session, SignedPayload signed) throws IOException {
    LeaseUpdateRequest request = LeaseUpdateRequest.decode(signed.data());
    Lease lease = request.lease();
    if (lease == null || !signedByOwner(lease.identity(), signed)) {
      return ResponseCode.INVALID_IDENTITY;
    }
    if (lease.expires() <= nowSeconds()) {
      return ResponseCode.INVALID_EXPIRES;
    }
    if (!saneName(lease.name())) {
      return ResponseCode.INVALID_NAME;
    }
    if (lease.alpn().isEmpty() || lease.alpn().stream().anyMatch(String::isBlank)) {
      return ResponseCode.INVALID_ALPN;
    }
    String id = lease.identity().id();
    boolean nameTaken = leases().stream()
        .anyMatch(other -> other.name().equals(lease.name()) && !other.identity().id().equals(id));
    if (nameTaken) {
      return ResponseCode.INVALID_NAME;
    }
    // Like the Go relay, the latest session to register a key takes its lease over: a tunnel that
    // reconnects must not wait until its old session is noticed dead.
    leases.put(id, new HeldLease(lease, session));
    if (session.isClosed()) {
      // The session ended between the check and the put; its cleanup may have run already.
      leases.remove(id);
      return ResponseCode.REJECTED;
    }
    return ResponseCode.ACCEPTED;
  }

  private ResponseCode deleteLease(SignedPayload signed) throws IOException {
    LeaseDeleteRequest request = LeaseDeleteRequest.decode(signed.data());
    if (!signedByOwner(request.identity(), signed)) {
      return ResponseCode.INVALID_IDENTITY;
    }
    // As in Go, any holder of the key may delete the lease, whichever session registered it.
    return leases.remove(request.identity().id()) != null ? ResponseCode.ACCEPTED : ResponseCode.INVALID_IDENTITY;
  }

  private static boolean signedByOwner(Identity owner, SignedPayload signed) {
    return owner != null && PortalIds.isValid(owner)
        && PortalIdentity.verify(owner.publicKey(), signed.data(), signed.signature());
  }

  private static boolean saneName(String name) {
    return !name.isEmpty() && name.length() <= MAX_NAME_LENGTH
        && name.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
            || c == '-' || c == '_' || c == '.');
  }

  private long nowSeconds() {
    return clock.instant().getEpochSecond();
  }

  // ---------------------------------------------------------------- connections

  private void connect(YamuxStream client, Packet request) throws IOException {
    ConnectionRequest connection = ConnectionRequest.decode(request.payload());
    HeldLease held = leases.get(connection.leaseId());
    if (held == null || held.lease().expires() <= nowSeconds() || held.holder().isClosed()) {
      answer(client, Packet.of(PacketType.CONNECTION_RESPONSE, new ConnectionResponse(ResponseCode.INVALID_IDENTITY)));
      return;
    }
    YamuxStream holder;
    ResponseCode code;
    try {
      holder = held.holder().openStream();
    } catch (IOException e) {
      answer(client, Packet.of(PacketType.CONNECTION_RESPONSE, new ConnectionResponse(ResponseCode.REJECTED)));
      return;
    }
    StreamDeadline deadline = new StreamDeadline(holder, HOLDER_ANSWER_TIMEOUT);
    try {
      PacketFraming.writePacket(holder.getOutputStream(), request);
      Packet response = PacketFraming.readPacket(holder.getInputStream());
      code = response.type() == PacketType.CONNECTION_RESPONSE
          ? ConnectionResponse.decode(response.payload()).code()
          : ResponseCode.REJECTED;
    } catch (IOException e) {
      code = ResponseCode.REJECTED;
    } finally {
      deadline.close();
    }
    if (deadline.expired()) {
      // The timer reset the holder's stream, possibly just after its answer arrived.
      code = ResponseCode.REJECTED;
    }
    if (code != ResponseCode.ACCEPTED) {
      holder.reset();
      answer(client, Packet.of(PacketType.CONNECTION_RESPONSE, new ConnectionResponse(code)));
      return;
    }
    try {
      PacketFraming.writePacket(client.getOutputStream(),
          Packet.of(PacketType.CONNECTION_RESPONSE, new ConnectionResponse(ResponseCode.ACCEPTED)));
    } catch (IOException e) {
      holder.reset();
      throw e;
    }
    StreamSplice.start(client, holder);
  }
}
