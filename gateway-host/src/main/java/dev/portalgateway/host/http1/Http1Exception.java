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

  /**
   * What happened, for a problem document: the codec's own words, with the cause's when it has
   * one (a refused connection, an end of stream), at most 200 printable characters. Codec messages
   * carry no addresses or secrets; the upstream's URL stays in the log.
   *
   * @return a short reason, such as {@code cannot connect: Connection refused}
   */
  public String reason() {
    String text = getMessage() == null ? kind.name().toLowerCase(java.util.Locale.ROOT) : getMessage();
    Throwable cause = getCause();
    if (cause != null && cause.getMessage() != null && !text.contains(cause.getMessage())) {
      text = text + ": " + cause.getMessage();
    }
    text = text.replaceAll("[^\\x20-\\x7e]", "?");
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }
}
