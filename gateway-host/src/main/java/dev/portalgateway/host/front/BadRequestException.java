package dev.portalgateway.host.front;

import java.io.IOException;

/** A request the front server refuses before any handler sees it, with the status to answer. */
final class BadRequestException extends IOException {
  private final int status;

  BadRequestException(int status, String reason) {
    super(reason);
    this.status = status;
  }

  /** @return 400, 431 or 505 */
  int status() {
    return status;
  }
}
