package dev.portalgateway.plugins.webhook;

/** The store could not do what was asked: the webhook, or the change, was not stored. */
final class StoreException extends Exception {
  StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
