package dev.portalgateway.portal.wire;

import java.util.Objects;

/**
 * The relay's answer to a {@link LeaseUpdateRequest}.
 *
 * @param code the outcome
 */
public record LeaseUpdateResponse(ResponseCode code) implements ProtoMessage {

  public LeaseUpdateResponse {
    Objects.requireNonNull(code, "code");
  }

  @Override
  public byte[] encode() {
    return code.encodeAsField1();
  }

  /** Decodes a LeaseUpdateResponse. */
  public static LeaseUpdateResponse decode(byte[] bytes) throws WireFormatException {
    return new LeaseUpdateResponse(ResponseCode.decodeField1(bytes));
  }
}
