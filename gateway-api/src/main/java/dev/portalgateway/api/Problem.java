package dev.portalgateway.api;

import java.util.Objects;

/**
 * An RFC 9457 problem document: what the gateway answers when it refuses or fails a request.
 * Never carries a stack trace or a secret.
 *
 * @param status the HTTP status code
 * @param type a stable, short identifier such as {@code "upstream-timeout"}; written as
 *     {@code urn:portal-gateway:problem:upstream-timeout}
 * @param title a short summary of the problem type
 * @param detail what happened to this request, for a human
 * @param hint what the caller or operator can do about it; may be {@code null}
 */
public record Problem(int status, String type, String title, String detail, String hint) {
  /** The media type of a problem document. */
  public static final String MEDIA_TYPE = "application/problem+json";
  /** The prefix of every {@link #typeUri()}. */
  public static final String TYPE_PREFIX = "urn:portal-gateway:problem:";

  /** Checks the fields. */
  public Problem {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("a problem has a 4xx or 5xx status, not " + status);
    }
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(detail, "detail");
  }

  /** Shorthand for the canonical constructor. */
  public static Problem of(int status, String type, String title, String detail, String hint) {
    return new Problem(status, type, title, detail, hint);
  }

  /** @return the full type URI */
  public String typeUri() {
    return TYPE_PREFIX + type;
  }

  /** @return the problem as a JSON document */
  public String toJson() {
    StringBuilder sb = new StringBuilder(160);
    sb.append("{\"type\":");
    appendJsonString(sb, typeUri());
    sb.append(",\"title\":");
    appendJsonString(sb, title);
    sb.append(",\"status\":").append(status).append(",\"detail\":");
    appendJsonString(sb, detail);
    if (hint != null) {
      sb.append(",\"hint\":");
      appendJsonString(sb, hint);
    }
    return sb.append('}').toString();
  }

  /**
   * @param extraHeaders headers to add, such as {@code Retry-After} or {@code WWW-Authenticate}
   * @return a response carrying this problem
   */
  public Response toResponse(Headers extraHeaders) {
    Headers.Builder h = extraHeaders.toBuilder();
    h.set("Content-Type", MEDIA_TYPE);
    h.set("Cache-Control", "no-store");
    return Response.of(status, h.build(), Body.of(toJson()));
  }

  /** @return a response carrying this problem */
  public Response toResponse() {
    return toResponse(Headers.empty());
  }

  /** Appends {@code value} to {@code sb} as a quoted JSON string. */
  static void appendJsonString(StringBuilder sb, String value) {
    sb.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
