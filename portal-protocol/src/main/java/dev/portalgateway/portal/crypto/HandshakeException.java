package dev.portalgateway.portal.crypto;

import java.io.IOException;

/** The E2EE handshake failed; {@link #reason()} says which check did not pass. */
public class HandshakeException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why a handshake failed. */
  public enum Reason {
    /** The stream failed or ended before the handshake completed. */
    CONNECTION_LOST,
    /** The peer's message was not a well-formed SignedPayload with an init payload. */
    MALFORMED_MESSAGE,
    /** The init payload's version is not V1. */
    UNSUPPORTED_VERSION,
    /** The peer's timestamp is more than 30 seconds away from our clock. */
    STALE_TIMESTAMP,
    /** The ALPN is not one we accept (server) or not the one we asked for (client). */
    ALPN_MISMATCH,
    /** The identity lacks a 32-byte key or its ID does not derive from that key. */
    INVALID_IDENTITY,
    /** The Ed25519 signature does not verify over the received data. */
    INVALID_SIGNATURE,
    /** The server's identity is not the lease the client asked for. */
    IDENTITY_MISMATCH,
    /** The peer's ephemeral X25519 key is unusable (wrong length or small order). */
    INVALID_SESSION_KEY
  }

  private final Reason reason;

  public HandshakeException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = reason;
  }

  public HandshakeException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  /** Which check failed. */
  public Reason reason() {
    return reason;
  }
}
