package dev.portalgateway.portal.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Fuzz targets for the Portal wire format: length-prefixed frames, the {@link Packet} envelope,
 * every message it announces, and {@link ProtoReader} itself. Replayed on the inputs in
 * {@code src/test/resources/dev/portalgateway/portal/wire/WireFuzzTestInputs/<method>/} by every
 * test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class WireFuzzTest {

  /**
   * A frame read from a stream split anywhere (the first byte picks the read size): its body, or
   * {@link WireFormatException} for a length over the limit, or {@link EOFException}; never a
   * byte consumed past the frame.
   */
  @FuzzTest
  void packetFraming(byte[] input) throws IOException {
    if (input.length == 0) {
      return;
    }
    byte[] stream = Arrays.copyOfRange(input, 1, input.length);
    InputStream in = new PieceByPieceInputStream(stream, 1 + (input[0] & 63), input[0]);
    byte[] body;
    try {
      body = PacketFraming.read(in);
    } catch (WireFormatException | EOFException expected) {
      return;
    }
    long length = (stream[0] & 0xFFL) << 24 | (stream[1] & 0xFFL) << 16 | (stream[2] & 0xFFL) << 8 | (stream[3] & 0xFFL);
    assertThat((long) body.length).isEqualTo(length).isLessThanOrEqualTo(PacketFraming.MAX_FRAME_LENGTH);
    assertThat(body).isEqualTo(Arrays.copyOfRange(stream, 4, 4 + body.length));
    assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(stream, 4 + body.length, stream.length));
  }

  /**
   * A packet and the message its type announces: decoded, or refused with
   * {@link WireFormatException}; what decodes encodes to bytes that decode to the same thing.
   */
  @FuzzTest
  void packets(byte[] input) throws WireFormatException {
    Packet packet;
    try {
      packet = Packet.decode(input);
    } catch (WireFormatException expected) {
      return;
    }
    assertThat(Packet.decode(packet.encode())).isEqualTo(packet);
    ProtoMessage message;
    try {
      message = decode(packet.type(), packet.payload());
    } catch (WireFormatException expected) {
      return;
    }
    byte[] encoded = message.encode();
    assertThat(decode(packet.type(), encoded).encode()).isEqualTo(encoded);
    assertThat(message.toString()).isNotNull();
  }

  /** The other messages that travel outside packets: the handshake's, and what they embed. */
  @FuzzTest
  void messages(byte[] input) throws WireFormatException {
    if (input.length == 0) {
      return;
    }
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    ProtoMessage message;
    try {
      message = switch ((input[0] & 0xFF) % 5) {
        case 0 -> SignedPayload.decode(body);
        case 1 -> InitPayload.decode(body);
        case 2 -> Identity.decode(body);
        case 3 -> Lease.decode(body);
        default -> RelayInfo.decode(body);
      };
    } catch (WireFormatException expected) {
      return;
    }
    byte[] encoded = message.encode();
    ProtoMessage again = switch ((input[0] & 0xFF) % 5) {
      case 0 -> SignedPayload.decode(encoded);
      case 1 -> InitPayload.decode(encoded);
      case 2 -> Identity.decode(encoded);
      case 3 -> Lease.decode(encoded);
      default -> RelayInfo.decode(encoded);
    };
    assertThat(again.encode()).isEqualTo(encoded);
    assertThat(again).isEqualTo(message);
  }

  private static ProtoMessage decode(PacketType type, byte[] payload) throws WireFormatException {
    return switch (type) {
      case RELAY_INFO_REQUEST -> RelayInfoRequest.decode(payload);
      case RELAY_INFO_RESPONSE -> RelayInfoResponse.decode(payload);
      case LEASE_UPDATE_REQUEST -> LeaseUpdateRequest.decode(payload);
      case LEASE_UPDATE_RESPONSE -> LeaseUpdateResponse.decode(payload);
      case LEASE_DELETE_REQUEST -> LeaseDeleteRequest.decode(payload);
      case LEASE_DELETE_RESPONSE -> LeaseDeleteResponse.decode(payload);
      case CONNECTION_REQUEST -> ConnectionRequest.decode(payload);
      case CONNECTION_RESPONSE -> ConnectionResponse.decode(payload);
    };
  }

  /**
   * {@link ProtoReader} against a reference reading of the protobuf wire format (as protobuf-go's
   * protowire consumes it): a varint is at most ten bytes and fits 64 bits; a tag's field number
   * is at least 1 and the tag fits 32 bits; wire types 0, 1, 2, 5 only. Every tag and skip must
   * succeed exactly when the reference does, with the same tag.
   */
  @FuzzTest
  void protoReader(byte[] input) {
    ProtoReader reader = new ProtoReader(input);
    int[] pos = {0};
    long[] value = new long[1];
    while (pos[0] < input.length) {
      boolean tagOk = referenceVarint(input, pos, value);
      long tag = value[0];
      tagOk = tagOk && tag >>> 3 != 0 && Long.compareUnsigned(tag, 0xFFFF_FFFFL) <= 0;
      int got;
      try {
        got = reader.readTag();
      } catch (WireFormatException e) {
        assertThat(tagOk).as("refused a valid tag: %s", e.getMessage()).isFalse();
        return;
      }
      assertThat(tagOk).as("accepted an invalid tag, read as %s", Integer.toUnsignedString(got)).isTrue();
      assertThat(got).isEqualTo((int) tag);
      boolean valueOk = referenceSkip(input, pos, got & 7, value);
      try {
        reader.skip();
      } catch (WireFormatException e) {
        assertThat(valueOk).as("refused a valid value: %s", e.getMessage()).isFalse();
        return;
      }
      assertThat(valueOk).as("accepted an invalid value").isTrue();
    }
    assertThat(reader.hasNext()).isFalse();
  }

  /** Reads the varint at {@code pos[0]} into {@code out[0]}, advancing; @return whether it is valid */
  private static boolean referenceVarint(byte[] b, int[] pos, long[] out) {
    long v = 0;
    for (int i = 0; i < 10; i++) {
      if (pos[0] >= b.length) {
        return false;
      }
      int x = b[pos[0]++] & 0xFF;
      if (i == 9 && x > 1) {
        return false; // the tenth byte may only add bit 63
      }
      v |= (long) (x & 0x7F) << (7 * i);
      if (x < 0x80) {
        out[0] = v;
        return true;
      }
    }
    return false;
  }

  private static boolean referenceSkip(byte[] b, int[] pos, int wireType, long[] scratch) {
    switch (wireType) {
      case ProtoReader.VARINT -> {
        return referenceVarint(b, pos, scratch);
      }
      case ProtoReader.I64 -> {
        pos[0] += 8;
        return pos[0] <= b.length;
      }
      case ProtoReader.I32 -> {
        pos[0] += 4;
        return pos[0] <= b.length;
      }
      case ProtoReader.LEN -> {
        if (!referenceVarint(b, pos, scratch)) {
          return false;
        }
        long n = scratch[0];
        if (n < 0 || n > b.length - pos[0]) {
          return false;
        }
        pos[0] += (int) n;
        return true;
      }
      default -> {
        return false;
      }
    }
  }
}
