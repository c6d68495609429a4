package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.Objects;

/**
 * The relay's answer to a {@link LeaseDeleteRequest}.
 *
 * @param code the outcome
 */
public record LeaseDeleteResponse(ResponseCode code) implements ProtoMessage {

  public LeaseDeleteResponse {
    Objects.requireNonNull(code, "code");
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().varint(1, code.number()).toByteArray();
  }

  /** Decodes a LeaseDeleteResponse. */
  public static LeaseDeleteResponse decode(byte[] bytes) throws WireFormatException {
    int code = 0;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | VARINT -> code = r.readEnum();
        default -> r.skip();
      }
    }
    return new LeaseDeleteResponse(ResponseCode.forNumber(code));
  }
}
