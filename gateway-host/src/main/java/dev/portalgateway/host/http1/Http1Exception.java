package dev.portalgateway.host.http1;

import java.io.IOException;

/** Why an HTTP/1.1 exchange with an upstream failed, so connectors can answer 502 or 504. */
public final class Http1Exception extends IOException {
  /** What went wrong. */
  public enum Kind {
    /** No connection could be made. */
    CONNECT,
    /** The upstream did not send its response head in time. */
    TIMEOUT,
    /** The upstream answered with something that is not HTTP/1.1. */
    PROTOCOL,
    /** The connection broke before a complete response head arrived. */
    BROKEN
  }

  private final Kind kind;

  Http1Exception(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** @return what went wrong */
  public Kind kind() {
    return kind;
  }
}
