package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;
import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.Arrays;
import java.util.Objects;

/**
 * The envelope sent on control streams: a type and the encoded message it announces.
 *
 * @param type    what {@code payload} holds
 * @param payload the encoded message; empty for messages without fields
 */
public record Packet(PacketType type, byte[] payload) implements ProtoMessage {

  public Packet {
    Objects.requireNonNull(type, "type");
    payload = payload == null ? new byte[0] : payload.clone();
  }

  /** A packet carrying {@code message}. */
  public static Packet of(PacketType type, ProtoMessage message) {
    return new Packet(type, message.encode());
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().varint(1, type.number()).bytes(2, payload).toByteArray();
  }

  /** Decodes a Packet; an unknown packet type is an error. */
  public static Packet decode(byte[] bytes) throws WireFormatException {
    int type = 0;
    byte[] payload = new byte[0];
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | VARINT -> type = r.readEnum();
        case 2 << 3 | LEN -> payload = r.readBytes();
        default -> r.skip();
      }
    }
    return new Packet(PacketType.forNumber(type), payload);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Packet other && type == other.type && Arrays.equals(payload, other.payload);
  }

  @Override
  public int hashCode() {
    return 31 * type.hashCode() + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "Packet[type=" + type + ", payload=" + payload.length + " bytes]";
  }
}
