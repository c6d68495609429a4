package dev.portalgateway.host.http1;

import java.io.IOException;

/**
 * The client's request body failed while it was being streamed upstream: the client hung up or
 * sent broken framing. Not the upstream's fault, and nobody is left to answer.
 */
public final class RequestBodyException extends IOException {
  public RequestBodyException(IOException cause) {
    super("reading the client's request body failed: " + cause.getMessage(), cause);
  }
}
