package dev.portalgateway.portal.relay;

import dev.portalgateway.portal.crypto.PortalIdentity;
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
import dev.portalgateway.portal.wire.ProtoMessage;
import dev.portalgateway.portal.wire.ResponseCode;
import dev.portalgateway.portal.wire.SignedPayload;
import dev.portalgateway.portal.ws.WebSocketByteStream;
import dev.portalgateway.portal.yamux.YamuxSession;
import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A hand-driven relay session for tests: registers whatever lease it is told to, signed by
 * whatever key it is given, and lets the test play the lease holder stream by stream.
 */
final class RawHolder implements AutoCloseable {
  private final WebSocketByteStream socket;
  private final YamuxSession session;

  private RawHolder(WebSocketByteStream socket) {
    this.socket = socket;
    this.session = YamuxSession.client(socket.getInputStream(), socket.getOutputStream(), socket);
  }

  static RawHolder connect(URI relayUrl) throws IOException {
    return new RawHolder(WebSocketByteStream.connect(relayUrl, Duration.ofSeconds(5)));
  }

  /** A lease for {@code owner} valid for 30 s with the tunnel's ALPNs. */
  static Lease lease(PortalIdentity owner, String name) {
    return new Lease(owner.toIdentity(), Instant.now().getEpochSecond() + 30, name, List.of("http/1.1", "h2"), "");
  }

  ResponseCode update(PortalIdentity signer, Lease lease) throws IOException {
    Packet answer = exchange(PacketType.LEASE_UPDATE_REQUEST, signer,
        new LeaseUpdateRequest(lease, new byte[12], Instant.now().getEpochSecond()));
    return LeaseUpdateResponse.decode(answer.payload()).code();
  }

  ResponseCode delete(PortalIdentity signer, Identity identity) throws IOException {
    Packet answer = exchange(PacketType.LEASE_DELETE_REQUEST, signer,
        new LeaseDeleteRequest(identity, new byte[12], Instant.now().getEpochSecond()));
    return LeaseDeleteResponse.decode(answer.payload()).code();
  }

  /** Waits for the relay to forward a connection request; returns the stream after reading it. */
  YamuxStream acceptConnection() throws IOException {
    YamuxStream stream = session.acceptStream();
    Packet request = PacketFraming.readPacket(stream.getInputStream());
    if (request.type() != PacketType.CONNECTION_REQUEST) {
      throw new IOException("expected a connection request, got " + request.type());
    }
    return stream;
  }

  static void answer(YamuxStream stream, ResponseCode code) throws IOException {
    PacketFraming.writePacket(stream.getOutputStream(),
        Packet.of(PacketType.CONNECTION_RESPONSE, new ConnectionResponse(code)));
  }

  @Override
  public void close() {
    session.close();
    socket.close();
  }

  private Packet exchange(PacketType type, PortalIdentity signer, ProtoMessage request) throws IOException {
    byte[] data = request.encode();
    YamuxStream stream = session.openStream();
    PacketFraming.writePacket(stream.getOutputStream(), Packet.of(type, new SignedPayload(data, signer.sign(data))));
    Packet answer = PacketFraming.readPacket(stream.getInputStream());
    stream.close();
    return answer;
  }
}
