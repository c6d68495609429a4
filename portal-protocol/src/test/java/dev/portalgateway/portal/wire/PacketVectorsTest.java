package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.TestVectors.hex;
import static dev.portalgateway.portal.wire.TestVectors.string;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** Packets built by us must be the bytes the Go implementation builds, and vice versa. */
class PacketVectorsTest {

  private static ConnectionRequest vectorConnectionRequest() {
    Identity client = new Identity(string("connection_request_packet.client_id"), hex("identity.0.public_key"));
    return new ConnectionRequest(string("connection_request_packet.lease_id"), client);
  }

  @Test
  void connectionRequestPacketEncodesToTheGoBytes() {
    Packet packet = Packet.of(PacketType.CONNECTION_REQUEST, vectorConnectionRequest());

    assertThat(packet.encode()).isEqualTo(hex("connection_request_packet.packet_protobuf"));
  }

  @Test
  void connectionRequestPacketIsFramedLikeGo() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PacketFraming.writePacket(out, Packet.of(PacketType.CONNECTION_REQUEST, vectorConnectionRequest()));

    assertThat(out.toByteArray()).isEqualTo(hex("connection_request_packet.framed"));
  }

  @Test
  void connectionRequestPacketDecodesFromTheGoBytes() throws Exception {
    Packet packet = PacketFraming.readPacket(new ByteArrayInputStream(hex("connection_request_packet.framed")));

    assertThat(packet.type()).isEqualTo(PacketType.CONNECTION_REQUEST);
    ConnectionRequest request = ConnectionRequest.decode(packet.payload());
    assertThat(request).isEqualTo(vectorConnectionRequest());
    assertThat(Packet.decode(hex("connection_request_packet.packet_protobuf"))).isEqualTo(packet);
  }

  @Test
  void relayInfoRequestIsAnEmptyFrame() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    // Type 0 and an empty payload are both defaults, so the packet itself is zero bytes.
    PacketFraming.writePacket(out, Packet.of(PacketType.RELAY_INFO_REQUEST, new RelayInfoRequest()));

    assertThat(out.toByteArray()).isEqualTo(hex("relay_info_request_framed"));
    Packet decoded = PacketFraming.readPacket(new ByteArrayInputStream(hex("relay_info_request_framed")));
    assertThat(decoded.type()).isEqualTo(PacketType.RELAY_INFO_REQUEST);
    assertThat(decoded.payload()).isEmpty();
  }
}
