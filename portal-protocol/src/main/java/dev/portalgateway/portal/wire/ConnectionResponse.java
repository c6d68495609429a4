package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.Objects;

/**
 * The answer to a {@link ConnectionRequest}; after {@link ResponseCode#ACCEPTED} the stream becomes a raw pipe to the lease holder.
 *
 * @param code the outcome
 */
public record ConnectionResponse(ResponseCode code) implements ProtoMessage {

  public ConnectionResponse {
    Objects.requireNonNull(code, "code");
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter().varint(1, code.number()).toByteArray();
  }

  /** Decodes a ConnectionResponse. */
  public static ConnectionResponse decode(byte[] bytes) throws WireFormatException {
    int code = 0;
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | VARINT -> code = r.readEnum();
        default -> r.skip();
      }
    }
    return new ConnectionResponse(ResponseCode.forNumber(code));
  }
}
