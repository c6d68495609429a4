package dev.portalgateway.portal.wire;

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
    return code.encodeAsField1();
  }

  /** Decodes a LeaseDeleteResponse. */
  public static LeaseDeleteResponse decode(byte[] bytes) throws WireFormatException {
    return new LeaseDeleteResponse(ResponseCode.decodeField1(bytes));
  }
}
