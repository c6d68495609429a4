package dev.portalgateway.host.ops;

/**
 * One JSON line per request. It records the path with credential query parameters redacted and
 * never any header value that could be a credential: the fields are chosen, not copied.
 */
public final class AccessLog {
  private AccessLog() {}

  /**
   * One finished exchange.
   *
   * @param requestId the request id
   * @param method the method
   * @param path the path as received
   * @param rawQuery the raw query, or {@code null}; redacted here
   * @param route the route name, or {@code null} when the path named none
   * @param status the status sent
   * @param durationNanos arrival to last byte
   * @param upstreamNanos connector time, or -1
   * @param bytesIn request body bytes read
   * @param bytesOut response body bytes written
   * @param client the client address
   * @param userAgent the client's {@code User-Agent}, or {@code null}
   * @param principal the authenticated principal id, or {@code null}
   * @param outcome {@code ok}, or what went wrong: a {@link dev.portalgateway.api.Completion.Outcome#label()}
   */
  public record Entry(String requestId, String method, String path, String rawQuery, String route, int status,
      long durationNanos, long upstreamNanos, long bytesIn, long bytesOut, String client, String userAgent,
      String principal, String outcome) {}

  /** Writes the entry's line. */
  public static void write(Entry e) {
    if (!JsonLog.enabled(System.Logger.Level.INFO)) {
      return;
    }
    // Fields straight into the line, without a map of boxed values: this runs for every request.
    StringBuilder sb = JsonLog.start(System.Logger.Level.INFO, "access");
    JsonLog.field(sb, "request_id", e.requestId());
    JsonLog.field(sb, "method", e.method());
    String query = Redaction.query(e.rawQuery());
    JsonLog.field(sb, "path", query == null ? e.path() : e.path() + "?" + query);
    JsonLog.field(sb, "route", e.route());
    JsonLog.field(sb, "status", e.status());
    JsonLog.field(sb, "duration_ms", Math.round(e.durationNanos() / 10_000.0) / 100.0);
    JsonLog.field(sb, "upstream_ms", e.upstreamNanos() < 0 ? null : Math.round(e.upstreamNanos() / 10_000.0) / 100.0);
    JsonLog.field(sb, "bytes_in", e.bytesIn());
    JsonLog.field(sb, "bytes_out", e.bytesOut());
    JsonLog.field(sb, "client", e.client());
    JsonLog.field(sb, "user_agent", e.userAgent());
    JsonLog.field(sb, "principal", e.principal());
    JsonLog.field(sb, "outcome", e.outcome());
    JsonLog.finish(sb, true);
  }
}
