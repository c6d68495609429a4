package dev.portalgateway.host.ops;

import java.util.LinkedHashMap;
import java.util.Map;

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
   * @param outcome {@code ok}, or what went wrong: {@code client_aborted}, {@code upstream_aborted}
   */
  public record Entry(String requestId, String method, String path, String rawQuery, String route, int status,
      long durationNanos, long upstreamNanos, long bytesIn, long bytesOut, String client, String userAgent,
      String principal, String outcome) {}

  /** Writes the entry's line. */
  public static void write(Entry e) {
    Map<String, Object> f = new LinkedHashMap<>(24);
    f.put("request_id", e.requestId());
    f.put("method", e.method());
    String query = Redaction.query(e.rawQuery());
    f.put("path", query == null ? e.path() : e.path() + "?" + query);
    f.put("route", e.route());
    f.put("status", e.status());
    f.put("duration_ms", Math.round(e.durationNanos() / 10_000.0) / 100.0);
    f.put("upstream_ms", e.upstreamNanos() < 0 ? null : Math.round(e.upstreamNanos() / 10_000.0) / 100.0);
    f.put("bytes_in", e.bytesIn());
    f.put("bytes_out", e.bytesOut());
    f.put("client", e.client());
    f.put("user_agent", e.userAgent());
    f.put("principal", e.principal());
    f.put("outcome", e.outcome());
    JsonLog.write(System.Logger.Level.INFO, "access", null, f, true);
  }
}
