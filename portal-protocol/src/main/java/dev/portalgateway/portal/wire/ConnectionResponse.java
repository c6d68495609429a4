package dev.portalgateway.portal.wire;

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
    return code.encodeAsField1();
  }

  /** Decodes a ConnectionResponse. */
  public static ConnectionResponse decode(byte[] bytes) throws WireFormatException {
    return new ConnectionResponse(ResponseCode.decodeField1(bytes));
  }
}
