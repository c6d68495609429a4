package dev.portalgateway.plugins.sso;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bearer-token authenticator: a JWT from a trusted issuer, for this route's resource, with the
 * route's scopes and groups, becomes the request's {@link Principal}. Every refusal carries the
 * MCP authorization challenge, {@code resource_metadata} pointing at the route's RFC 9728
 * document, so a client can find where to get a token.
 */
final class BearerFilter implements Authenticator {
  static final String SOURCE = SsoOAuthPlugin.NAME;

  private final SsoSettings settings;
  private final TokenVerifier verifier;
  private final ResourceMetadata metadata;
  private final PluginMetrics.Counter outcomes;

  BearerFilter(SsoSettings settings, List<Issuer> issuers, java.time.Clock clock, ResourceMetadata metadata,
      PluginMetrics.Counter outcomes) {
    this.settings = settings;
    this.verifier = new TokenVerifier(issuers, settings.tokenCacheSize(), clock, this::describe);
    this.metadata = metadata;
    this.outcomes = outcomes;
  }

  /** A bearer credential shaped like a JWT (three base64url parts); API keys and others are not ours. */
  @Override
  public boolean recognizes(Request request) {
    String auth = request.headers().first("Authorization");
    int from = tokenStart(auth);
    if (from < 0) {
      return false;
    }
    int to = tokenEnd(auth, from);
    int first = auth.indexOf('.', from);
    int second = first < 0 ? -1 : auth.indexOf('.', first + 1);
    return auth.startsWith("ey", from) && second > 0 && second < to;
  }

  @Override
  public Response handle(Request request, Chain chain) throws IOException {
    String auth = request.headers().first("Authorization");
    int from = tokenStart(auth);
    if (from < 0) {
      return unauthorized(request, "missing", null, Problem.of(401, "missing-bearer-token", "Unauthorized",
          "This route needs an OAuth bearer token.",
          "Get one from the authorization server named in " + metadata.url(request) + " and send it as "
              + "'Authorization: Bearer <token>'."));
    }
    Caller caller;
    try {
      caller = verifier.verify(auth, from, tokenEnd(auth, from));
    } catch (TokenVerifier.Refused e) {
      if (e.issuerNotReady) {
        outcomes.inc(e.reason);
        long retry = Math.max(1, settings.discoveryRetry().toSeconds());
        return Problem.of(503, "authorization-server-unavailable", "Service Unavailable", e.getMessage(),
            "The gateway keeps trying to reach it; try again shortly.").toResponse(
            Headers.of("Retry-After", Long.toString(retry)));
      }
      return unauthorized(request, e.reason, "invalid_token", Problem.of(401, "invalid-bearer-token", "Unauthorized",
          e.getMessage(), null));
    }
    String resource = metadata.resource(request);
    if (!audienceAccepted(caller.audience(), resource)) {
      return unauthorized(request, "audience", "invalid_token", Problem.of(401, "invalid-bearer-token", "Unauthorized",
          "The bearer token was not issued for this resource.",
          "Ask the authorization server for a token with resource=" + resource + "."));
    }
    List<String> required = settings.requiredScopesFor(request.route());
    if (!caller.scopes().containsAll(required)) {
      outcomes.inc("insufficient_scope");
      String challenge = challenge(request, "insufficient_scope") + ", scope=\"" + String.join(" ", required) + "\"";
      return Problem.of(403, "insufficient-scope", "Forbidden",
          "The bearer token lacks a scope this route needs: " + String.join(" ", required) + ".", null)
          .toResponse(Headers.of("WWW-Authenticate", challenge));
    }
    List<String> allowed = settings.allowedGroupsFor(request.route());
    if (!allowed.isEmpty() && allowed.stream().noneMatch(caller.groups()::contains)) {
      outcomes.inc("group_not_allowed");
      return Problem.of(403, "group-not-allowed", "Forbidden",
          "This route is open to members of " + String.join(", ", allowed) + " only.", null).toResponse();
    }
    outcomes.inc("ok");
    Request.Builder b = request.toBuilder();
    if (!settings.forwardToken()) {
      // MCP's authorization spec forbids passing the client's token through to the server.
      b.headers(request.headers().without("Authorization"));
    }
    b.attribute(StandardAttributes.PRINCIPAL, caller.principal());
    return chain.proceed(b.build());
  }

  private boolean audienceAccepted(List<String> audience, String resource) {
    if (audience == null) {
      return false;
    }
    for (String aud : audience) {
      // The route's URL or any URL below it: clients ask for the URL they call (.../peer/mcp/mcp).
      boolean below = aud.length() > resource.length() && aud.startsWith(resource) && aud.charAt(resource.length()) == '/';
      if (below || aud.equals(resource) || settings.audiences().contains(aud)) {
        return true;
      }
    }
    return false;
  }

  /** The caller a verified token describes; called once per token, the result cached with it. */
  Caller describe(JWTClaimsSet claims) {
    Set<String> scopes = scopes(claims);
    List<String> groups = groups(claims);
    List<String> audience = claims.getAudience() == null ? List.of() : List.copyOf(claims.getAudience());
    return new Caller(principal(claims, scopes, groups), audience, scopes, List.copyOf(groups),
        claims.getExpirationTime().getTime());
  }

  private Principal principal(JWTClaimsSet claims, Set<String> scopes, List<String> groups) {
    String id = stringClaim(claims, settings.subjectClaim());
    if (id == null) {
      id = claims.getSubject();
    }
    String name = firstOf(claims, "email", "preferred_username", "name");
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put(SOURCE + ".issuer", claims.getIssuer());
    String email = stringClaim(claims, "email");
    if (email != null) {
      facts.put(SOURCE + ".email", email);
    }
    if (!groups.isEmpty()) {
      facts.put(SOURCE + ".groups", String.join(",", groups));
    }
    String client = firstOf(claims, "azp", "client_id");
    if (client != null) {
      facts.put(SOURCE + ".client_id", client);
    }
    facts.put(SOURCE + ".expires", Long.toString(claims.getExpirationTime().toInstant().getEpochSecond()));
    return new Principal(id == null ? "unknown" : id, name, SOURCE, scopes, facts);
  }

  private static String firstOf(JWTClaimsSet claims, String... names) {
    for (String n : names) {
      String v = stringClaim(claims, n);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static String stringClaim(JWTClaimsSet claims, String name) {
    Object v = claims.getClaim(name);
    return v instanceof String s && !s.isEmpty() ? s : null;
  }

  /** {@code scope} as RFC 8693/9068 say (a space-separated string), or {@code scp} as a list (Azure AD, Okta). */
  static Set<String> scopes(JWTClaimsSet claims) {
    Set<String> out = new LinkedHashSet<>();
    for (String name : new String[] {"scope", "scp"}) {
      Object v = claims.getClaim(name);
      if (v instanceof String s) {
        for (String part : s.trim().split("\\s+")) {
          if (!part.isEmpty()) {
            out.add(part);
          }
        }
      } else if (v instanceof Collection<?> c) {
        c.forEach(x -> out.add(String.valueOf(x)));
      }
    }
    return out;
  }

  private List<String> groups(JWTClaimsSet claims) {
    List<String> out = new ArrayList<>();
    for (String name : settings.groupsClaims()) {
      Object v = claims.getClaim(name);
      if (v instanceof Collection<?> c) {
        c.forEach(x -> out.add(String.valueOf(x)));
      } else if (v instanceof String s && !s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  private Response unauthorized(Request request, String reason, String error, Problem problem) {
    outcomes.inc(reason);
    return problem.toResponse(Headers.of("WWW-Authenticate", challenge(request, error)));
  }

  private String challenge(Request request, String error) {
    StringBuilder c = new StringBuilder("Bearer realm=\"portal-gateway\", resource_metadata=\"").append(metadata.url(request)).append('"');
    if (error != null) {
      c.append(", error=\"").append(error).append('"');
    } else {
      List<String> required = settings.requiredScopesFor(request.route());
      if (!required.isEmpty()) {
        c.append(", scope=\"").append(String.join(" ", required)).append('"');
      }
    }
    return c.toString();
  }

  // The token is found by its bounds in the header value rather than cut out as a string: its
  // 800-odd bytes would otherwise be copied on every request, twice with the authenticator
  // rule's recognizes().

  /** @return where the token after {@code Bearer } starts in an {@code Authorization} value, or -1 if there is none */
  private static int tokenStart(String auth) {
    if (auth == null || auth.length() <= 7 || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return -1;
    }
    int from = 7;
    while (from < auth.length() && auth.charAt(from) <= ' ') {
      from++;
    }
    return from < auth.length() ? from : -1;
  }

  /** @return the end of the token that starts at {@code from}, without trailing white space */
  private static int tokenEnd(String auth, int from) {
    int to = auth.length();
    while (to > from && auth.charAt(to - 1) <= ' ') {
      to--;
    }
    return to;
  }
}
