package dev.portalgateway.api;

import java.io.IOException;

/**
 * Thrown by a filter or connector to answer the request with an RFC 9457 problem document.
 * Extends {@link IOException} so it passes through {@link Filter#handle} and
 * {@link Connector#send} unchanged; the gateway writes it as the response.
 */
public class ProblemException extends IOException {
  private final Problem problem;
  private final transient Headers headers;

  /** @param problem what to answer */
  public ProblemException(Problem problem) {
    this(problem, Headers.empty(), null);
  }

  /**
   * @param problem what to answer
   * @param headers extra response headers, such as {@code Retry-After}
   * @param cause the underlying failure, logged by the gateway but never sent to the client
   */
  public ProblemException(Problem problem, Headers headers, Throwable cause) {
    super(problem.detail(), cause);
    this.problem = problem;
    this.headers = headers == null ? Headers.empty() : headers;
  }

  /** @return the problem to answer */
  public Problem problem() {
    return problem;
  }

  /** @return extra response headers */
  public Headers headers() {
    return headers;
  }

  /** @return the response that carries the problem */
  public Response toResponse() {
    return problem.toResponse(headers);
  }
}
