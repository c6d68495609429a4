package dev.portalgateway.plugins.ratelimit;

/** The limit store did not answer in time or answered with an error; the failure policy decides. */
final class StoreUnavailableException extends Exception {
  StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
