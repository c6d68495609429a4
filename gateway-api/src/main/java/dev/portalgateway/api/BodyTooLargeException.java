package dev.portalgateway.api;

/**
 * Thrown while reading a body that is longer than the limit in force. The gateway answers it with
 * {@code 413 Content Too Large} when no response has been sent yet.
 */
public final class BodyTooLargeException extends ProblemException {
  private final long limit;

  /** @param limit the limit, in bytes, that the body exceeded */
  public BodyTooLargeException(long limit) {
    super(Problem.of(413, "body-too-large", "Content Too Large",
        "The body is larger than the limit of " + limit + " bytes.",
        "Send a smaller body. The gateway's limit is server.max_body_bytes; a plugin may set a lower one of its own."));
    this.limit = limit;
  }

  /** @return the limit, in bytes, that the body exceeded */
  public long limit() {
    return limit;
  }
}
