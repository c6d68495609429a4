package dev.portalgateway.api;

import java.util.Objects;

/**
 * An HTTP response on its way back to the client: immutable, with a streaming body.
 *
 * <p>To observe a body as it streams (counting tokens, say), wrap it:
 * {@code response.withBody(response.body().map(in -> new UsageCountingStream(in)))}.
 */
public final class Response {
  private final int status;
  private final Headers headers;
  private final Body body;

  private Response(int status, Headers headers, Body body) {
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("not an HTTP status: " + status);
    }
    this.status = status;
    this.headers = Objects.requireNonNull(headers, "headers");
    this.body = Objects.requireNonNull(body, "body");
  }

  /**
   * @param status the status code
   * @param headers the header fields
   * @param body the body
   * @return a response
   */
  public static Response of(int status, Headers headers, Body body) {
    return new Response(status, headers, body);
  }

  /**
   * @param status the status code
   * @param contentType the media type of the text
   * @param text the body, sent as UTF-8
   * @return a response with a small in-memory body
   */
  public static Response text(int status, String contentType, String text) {
    return new Response(status, Headers.of("Content-Type", contentType), Body.of(text));
  }

  /** @return the status code */
  public int status() {
    return status;
  }

  /** @return the header fields */
  public Headers headers() {
    return headers;
  }

  /** @return the body */
  public Body body() {
    return body;
  }

  /** @return this response with every field {@code name} replaced by one with {@code value} */
  public Response withHeader(String name, String value) {
    return new Response(status, headers.with(name, value), body);
  }

  /** @return this response with other header fields */
  public Response withHeaders(Headers newHeaders) {
    return new Response(status, newHeaders, body);
  }

  /** @return this response with another body */
  public Response withBody(Body newBody) {
    return new Response(status, headers, newBody);
  }

  /** @return this response with another status */
  public Response withStatus(int newStatus) {
    return new Response(newStatus, headers, body);
  }

  @Override
  public String toString() {
    return "Response[" + status + "]";
  }
}
