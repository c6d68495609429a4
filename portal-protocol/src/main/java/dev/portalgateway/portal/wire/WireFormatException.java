package dev.portalgateway.portal.wire;

import java.io.IOException;

/**
 * Bytes that do not follow the Portal v1 wire format: a malformed protobuf message, an unknown
 * packet type, or a length prefix beyond the protocol's limit. It is an {@link IOException} so
 * that stream code reports it like any other broken connection.
 */
public class WireFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public WireFormatException(String message) {
    super(message);
  }
}
