package dev.portalgateway.portal.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** proto3 rules of the hand-written codec, and round trips of every message. */
class ProtoCodecTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final Identity ALICE = new Identity("KWQTMLOWWNPHRMNF5NB7Q2UUTA", new byte[32]);

  @Test
  void defaultsAreOmittedSoAnEmptyMessageIsZeroBytes() {
    assertThat(new ProtoWriter().varint(1, 0).string(2, "").bytes(3, new byte[0]).message(4, null).toByteArray())
        .isEmpty();
    assertThat(new ConnectionResponse(ResponseCode.UNKNOWN).encode()).isEmpty();
    assertThat(new InitPayload(0, null, 0, null, "", null).encode()).isEmpty();
  }

  @Test
  void presentEmptySubMessageIsStillWritten() {
    assertThat(new RelayInfoResponse(new RelayInfo(null, List.of(), List.of())).encode())
        .isEqualTo(HEX.parseHex("0a00"));
  }

  @Test
  void varintsUseSevenBitGroupsAndNegativeInt64TakesTenBytes() throws Exception {
    assertThat(new ProtoWriter().varint(1, 300).toByteArray()).isEqualTo(HEX.parseHex("08ac02"));
    byte[] negative = new ProtoWriter().varint(3, -1).toByteArray();
    assertThat(negative).isEqualTo(HEX.parseHex("18ffffffffffffffffff01"));
    ProtoReader r = new ProtoReader(negative);
    r.readTag();
    assertThat(r.readVarint()).isEqualTo(-1L);
  }

  /**
   * Found by WireFuzzTest.protoReader: a tenth varint byte above 1 overflowed silently, and the
   * tag it made, "negative" as a long, passed the check that a tag fits 32 bits.
   */
  @Test
  void aVarintPastSixtyFourBitsAndATagPastThirtyTwoAreRefused() throws Exception {
    assertThatThrownBy(() -> new ProtoReader(HEX.parseHex("e8ffffffffffffffff0b")).readTag())
        .isInstanceOf(WireFormatException.class).hasMessageContaining("overflows");
    assertThatThrownBy(() -> new ProtoReader(HEX.parseHex("ffffffffffffffffff02")).readVarint())
        .isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> new ProtoReader(HEX.parseHex("f8ffffffffffffffff01")).readTag())
        .isInstanceOf(WireFormatException.class).hasMessageContaining("invalid field tag");
    assertThatThrownBy(() -> new ProtoReader(HEX.parseHex("8080808010")).readTag())
        .as("a tag of 2^32").isInstanceOf(WireFormatException.class);
    assertThat(new ProtoReader(HEX.parseHex("f8ffffff0f")).readTag()).as("field 2^29-1").isEqualTo(0xFFFF_FFF8);
    assertThat(new ProtoReader(HEX.parseHex("ffffffffffffffffff01")).readVarint()).isEqualTo(-1L);
  }

  @Test
  void unknownFieldsOfEveryWireTypeAreSkipped() throws Exception {
    byte[] known = new ConnectionResponse(ResponseCode.ACCEPTED).encode();
    byte[] withUnknown = concat(
        HEX.parseHex("f80196" + "01"),          // field 31 varint 150
        HEX.parseHex("110102030405060708"),     // field 2 fixed64
        HEX.parseHex("1a03616263"),             // field 3 bytes "abc"
        HEX.parseHex("2501020304"),             // field 4 fixed32
        HEX.parseHex("0a0178"),                 // field 1 with the wrong wire type
        known);

    assertThat(ConnectionResponse.decode(withUnknown).code()).isEqualTo(ResponseCode.ACCEPTED);
  }

  @Test
  void truncatedOrMalformedInputIsAWireFormatError() {
    assertThatThrownBy(() -> Identity.decode(HEX.parseHex("0a05414243"))).isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> Lease.decode(HEX.parseHex("10ff"))).isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> Identity.decode(HEX.parseHex("0a02c328"))).isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> Packet.decode(HEX.parseHex("0863"))).isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> Identity.decode(HEX.parseHex("0b"))).isInstanceOf(WireFormatException.class);
  }

  @Test
  void unknownResponseCodeMeansNotAccepted() throws Exception {
    assertThat(LeaseUpdateResponse.decode(HEX.parseHex("0863")).code()).isEqualTo(ResponseCode.UNKNOWN);
  }

  @Test
  void everyMessageRoundTrips() throws Exception {
    Lease lease = new Lease(ALICE, 1_763_086_621L, "demo", List.of("http/1.1", "h2"), "{\"k\":1}");
    RelayInfo info = new RelayInfo(ALICE, List.of("ws://relay:4017/relay", ""), List.of(lease, lease));

    assertThat(Identity.decode(ALICE.encode())).isEqualTo(ALICE);
    assertThat(Lease.decode(lease.encode())).isEqualTo(lease);
    assertThat(RelayInfo.decode(info.encode())).isEqualTo(info);
    assertThat(RelayInfoResponse.decode(new RelayInfoResponse(info).encode()).relayInfo()).isEqualTo(info);
    assertThat(RelayInfoResponse.decode(new byte[0]).relayInfo()).isNull();
    assertThat(RelayInfoRequest.decode(HEX.parseHex("0801"))).isEqualTo(new RelayInfoRequest());

    LeaseUpdateRequest update = new LeaseUpdateRequest(lease, new byte[] {1, 2, 3}, 1_763_086_591L);
    assertThat(LeaseUpdateRequest.decode(update.encode())).isEqualTo(update);
    LeaseDeleteRequest delete = new LeaseDeleteRequest(ALICE, new byte[] {4}, -5);
    assertThat(LeaseDeleteRequest.decode(delete.encode())).isEqualTo(delete);
    for (ResponseCode code : ResponseCode.values()) {
      assertThat(LeaseUpdateResponse.decode(new LeaseUpdateResponse(code).encode()).code()).isEqualTo(code);
      assertThat(LeaseDeleteResponse.decode(new LeaseDeleteResponse(code).encode()).code()).isEqualTo(code);
      assertThat(ConnectionResponse.decode(new ConnectionResponse(code).encode()).code()).isEqualTo(code);
    }
    for (PacketType type : PacketType.values()) {
      Packet packet = new Packet(type, new byte[] {9});
      assertThat(Packet.decode(packet.encode())).isEqualTo(packet);
    }
    ConnectionRequest request = new ConnectionRequest("EDRAGE73S24ZUEDETL64FSZRWM", ALICE);
    assertThat(ConnectionRequest.decode(request.encode())).isEqualTo(request);
    SignedPayload signed = new SignedPayload(new byte[] {1, 2}, new byte[64]);
    assertThat(SignedPayload.decode(signed.encode())).isEqualTo(signed);
    InitPayload init = new InitPayload(0, new byte[12], 1_763_086_591L, ALICE, "http/1.1", new byte[32]);
    assertThat(InitPayload.decode(init.encode())).isEqualTo(init);
  }

  @Test
  void recordsCopyTheirByteArrays() {
    byte[] key = new byte[32];
    Identity identity = new Identity("X", key);
    key[0] = 1;
    identity.publicKey()[1] = 1;

    assertThat(identity.publicKey()).isEqualTo(new byte[32]);
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    byte[] joined = new byte[length];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, joined, at, part.length);
      at += part.length;
    }
    return joined;
  }
}
