package dev.portalgateway.host.config;

import java.time.Duration;
import java.util.List;

/**
 * A CORS policy ({@code cors:} at the top level, or per upstream). The defaults suit browser MCP
 * clients: they may send {@code Authorization}, {@code Mcp-Protocol-Version} and
 * {@code Mcp-Session-Id}, and read {@code Mcp-Session-Id} back.
 *
 * @param enabled whether CORS headers are sent and preflights answered
 * @param allowedOrigins origins allowed, exactly as browsers send them, or {@code *}
 * @param allowedMethods methods allowed in preflights
 * @param allowedHeaders request headers allowed in preflights
 * @param exposedHeaders response headers the browser script may read
 * @param allowCredentials whether cookies and credentials may be sent (never together with {@code *})
 * @param maxAge how long browsers may cache a preflight answer
 */
public record CorsConfig(
    Boolean enabled,
    List<String> allowedOrigins,
    List<String> allowedMethods,
    List<String> allowedHeaders,
    List<String> exposedHeaders,
    Boolean allowCredentials,
    Duration maxAge) {

  static final CorsConfig DISABLED = new CorsConfig(false, null, null, null, null, null, null);

  public CorsConfig {
    enabled = enabled == null ? Boolean.TRUE : enabled;
    allowedOrigins = allowedOrigins == null ? List.of("*") : List.copyOf(allowedOrigins);
    allowedMethods = allowedMethods == null
        ? List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS") : List.copyOf(allowedMethods);
    allowedHeaders = allowedHeaders == null
        ? List.of("Authorization", "Content-Type", "Accept", "Mcp-Protocol-Version", "Mcp-Session-Id",
            "Last-Event-ID", "X-API-Key", "X-Request-Id")
        : List.copyOf(allowedHeaders);
    exposedHeaders = exposedHeaders == null
        ? List.of("Mcp-Session-Id", "Mcp-Protocol-Version", "X-Request-Id", "WWW-Authenticate",
            "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
        : List.copyOf(exposedHeaders);
    allowCredentials = allowCredentials == null ? Boolean.FALSE : allowCredentials;
    maxAge = maxAge == null ? Duration.ofMinutes(10) : maxAge;
  }
}
