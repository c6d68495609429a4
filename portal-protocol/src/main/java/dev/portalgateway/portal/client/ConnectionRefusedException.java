package dev.portalgateway.portal.client;

import dev.portalgateway.portal.wire.ResponseCode;
import java.io.IOException;

/**
 * The relay (or the lease holder behind it) answered a connection request with something other
 * than {@link ResponseCode#ACCEPTED}. {@link ResponseCode#INVALID_IDENTITY} means the relay does
 * not know the lease; {@link ResponseCode#REJECTED} covers every other failure.
 */
public class ConnectionRefusedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final ResponseCode code;

  public ConnectionRefusedException(ResponseCode code, String message) {
    super(message);
    this.code = code;
  }

  /** The code the relay answered with. */
  public ResponseCode code() {
    return code;
  }
}
