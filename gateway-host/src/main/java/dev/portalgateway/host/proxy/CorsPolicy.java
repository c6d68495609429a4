package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.config.CorsConfig;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One route's CORS policy, compiled once per configuration generation. Preflights are answered
 * here, before any plugin runs: browsers send them without credentials, so authentication
 * would refuse them and break every browser MCP client.
 */
public final class CorsPolicy {
  /** A policy that adds nothing and answers no preflight. */
  public static final CorsPolicy DISABLED = new CorsPolicy(false, Set.of(), false, "", "", Set.of(), "", false, "0");

  private final boolean enabled;
  private final Set<String> origins;
  private final boolean anyOrigin;
  private final String methods;
  private final String allowedHeaders;
  private final Set<String> allowedHeaderSet;
  private final String exposedHeaders;
  private final boolean credentials;
  private final String maxAge;

  private CorsPolicy(boolean enabled, Set<String> origins, boolean anyOrigin, String methods, String allowedHeaders,
      Set<String> allowedHeaderSet, String exposedHeaders, boolean credentials, String maxAge) {
    this.enabled = enabled;
    this.origins = origins;
    this.anyOrigin = anyOrigin;
    this.methods = methods;
    this.allowedHeaders = allowedHeaders;
    this.allowedHeaderSet = allowedHeaderSet;
    this.exposedHeaders = exposedHeaders;
    this.credentials = credentials;
    this.maxAge = maxAge;
  }

  /** @return the compiled policy */
  public static CorsPolicy of(CorsConfig c) {
    if (!c.enabled()) {
      return DISABLED;
    }
    return new CorsPolicy(true, Set.copyOf(c.allowedOrigins()), c.allowedOrigins().contains("*"),
        String.join(", ", c.allowedMethods()), String.join(", ", c.allowedHeaders()),
        c.allowedHeaders().stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet()),
        String.join(", ", c.exposedHeaders()), c.allowCredentials(), Long.toString(c.maxAge().toSeconds()));
  }

  /** @return whether this request is a CORS preflight this policy must answer */
  public boolean isPreflight(String method, Headers headers) {
    return enabled && "OPTIONS".equals(method) && headers.contains("Origin")
        && headers.contains("Access-Control-Request-Method");
  }

  /** @return the answer to a preflight */
  public Response preflight(Headers headers) {
    String origin = headers.first("Origin");
    if (!allows(origin)) {
      return Problem.of(403, "cors-origin-denied", "Forbidden",
          "Origin " + origin + " is not allowed to call this route.",
          "Add the origin to cors.allowed_origins in the gateway configuration.")
          .toResponse(Headers.of("Vary", "Origin"));
    }
    Headers.Builder h = Headers.builder();
    h.add("Access-Control-Allow-Origin", allowOriginValue(origin));
    h.add("Access-Control-Allow-Methods", methods);
    String requested = headers.first("Access-Control-Request-Headers");
    if (allowedHeaderSet.contains("*") && requested != null) {
      h.add("Access-Control-Allow-Headers", requested);
    } else {
      h.add("Access-Control-Allow-Headers", allowedHeaders);
    }
    if (credentials) {
      h.add("Access-Control-Allow-Credentials", "true");
    }
    h.add("Access-Control-Max-Age", maxAge);
    h.add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    return Response.of(204, h.build(), dev.portalgateway.api.Body.empty());
  }

  /**
   * @param requestHeaders the request's fields
   * @param response the response on its way out
   * @return the response with CORS fields when the request came from an allowed origin
   */
  public Headers decorate(Headers requestHeaders, Headers response) {
    if (!enabled) {
      return response;
    }
    String origin = requestHeaders.first("Origin");
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < response.size(); i++) {
      // The gateway's policy is the only one: an upstream that reflects any origin must not
      // widen it.
      if (!response.name(i).regionMatches(true, 0, "Access-Control-", 0, 15)) {
        b.add(response.name(i), response.value(i));
      }
    }
    b.add("Vary", "Origin");
    if (origin != null && allows(origin)) {
      b.set("Access-Control-Allow-Origin", allowOriginValue(origin));
      if (!exposedHeaders.isEmpty()) {
        b.set("Access-Control-Expose-Headers", exposedHeaders);
      }
      if (credentials) {
        b.set("Access-Control-Allow-Credentials", "true");
      }
    }
    return b.build();
  }

  private boolean allows(String origin) {
    return origin != null && (anyOrigin || origins.contains(origin));
  }

  private String allowOriginValue(String origin) {
    // With credentials browsers refuse "*", and validation already refused "*" with credentials.
    return anyOrigin && !credentials ? "*" : origin;
  }
}
