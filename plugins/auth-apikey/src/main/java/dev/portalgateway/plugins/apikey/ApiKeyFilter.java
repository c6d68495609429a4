package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.Chain;
import dev.portalgateway.api.CidrBlock;
import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Lets a request through only with a valid key for its lease, then marks it with the key's
 * {@link dev.portalgateway.api.Principal} and removes the key, so the service behind the gateway never sees it.
 *
 * <p>It is an {@link Authenticator}: on a route with another authenticator (OIDC bearer tokens,
 * say), it decides only requests that carry an API key.
 *
 * <p>Order of checks: global client address lists, public leases, the key's shape and id, its
 * secret (bcrypt, cached; or, for a static key, a constant-time comparison), revocation and
 * expiry, then the key's leases, client addresses and scopes. 401 means "no valid key"; 403 means "a valid key, but not for this".
 */
final class ApiKeyFilter implements Authenticator {
  /** Where a key came from: it decides what to strip and whether the key allows it. */
  enum Source { AUTHORIZATION, HEADER, QUERY }

  record Credential(String text, Source source) {
    @Override
    public String toString() {
      return "Credential[" + source + "]"; // never the key
    }
  }

  static final String SOURCE = "auth-apikey";
  static final String HEADER_NAME = "X-API-Key";
  static final String QUERY_PARAMETER = "api_key";
  private static final String CHALLENGE = "Bearer realm=\"portal-gateway\"";

  private final KeyRingSource keys;
  private final StaticKeys staticKeys;
  private final KeyVerifier verifier;
  private final FailureThrottle throttle;
  private final Set<String> publicLeases;
  private final List<CidrBlock> allowed;
  private final List<CidrBlock> denied;
  private final Map<String, Set<String>> requiredScopes;
  private final Set<String> defaultScopes;
  private final Clock clock;
  private final Audit audit;

  ApiKeyFilter(ApiKeySettings settings, KeyRingSource keys, StaticKeys staticKeys, KeyVerifier verifier,
      FailureThrottle throttle, Clock clock, Audit audit) {
    this.keys = keys;
    this.staticKeys = staticKeys;
    this.verifier = verifier;
    this.throttle = throttle;
    this.publicLeases = Set.copyOf(settings.publicLeases());
    this.allowed = settings.allowedBlocks();
    this.denied = settings.deniedBlocks();
    this.requiredScopes = settings.scopeSets();
    this.defaultScopes = requiredScopes.getOrDefault("*", Set.of());
    this.clock = clock;
    this.audit = audit;
  }

  @Override
  public void close() {
    verifier.close();
  }

  /**
   * An API key in any of the places this plugin reads one: {@code Authorization: Bearer sk_...},
   * {@code X-API-Key}, or the {@code api_key} query parameter. A bearer token of another shape (a
   * JWT) is another authenticator's, never a malformed key: it is not counted as a failure, and
   * the header stays for the plugin that reads it.
   */
  @Override
  public boolean recognizes(Request request) {
    return find(request) != null;
  }

  @Override
  public Response handle(Request request, Chain chain) throws IOException {
    InetAddress client = request.clientAddress();
    if (!clientAllowed(client)) {
      return refuse(request, null, "client_address_denied", Problem.of(403, "client-address-denied", "Forbidden",
          "Requests from this address are not accepted.", "Ask the gateway's operator to allow your address."));
    }
    if (publicLeases.contains(request.route())) {
      audit.outcome("public");
      return chain.proceed(withoutKeys(request)); // a key sent anyway still stays with the gateway
    }
    Credential credential = find(request);
    if (credential == null) {
      return unauthorized(request, null, "missing", Problem.of(401, "missing-api-key", "Unauthorized",
          "This route needs an API key.",
          "Send it as 'Authorization: Bearer sk_live_...' or in the X-API-Key header. An operator makes one with "
              + "'portal-gateway add-key --name NAME --generate'."), false);
    }
    ApiKey key = ApiKey.parse(credential.text());
    StaticKeys.Entry fixed = key == null ? null : staticKeys.get(key.id());
    if (fixed != null) {
      // No bcrypt and no cache: comparing digests is cheap, so a right key passes even a throttle.
      if (fixed.matches(key)) {
        return permit(request, chain, credential, key, fixed.entry());
      }
      if (throttle.blocked(client)) {
        return throttled();
      }
      return invalid(request, key.id(), "wrong_secret");
    }
    KeyRing.Entry entry = key == null ? null : keys.current().get(key.id());
    KeyVerifier.Verdict verdict = entry == null ? null : verifier.cached(key, entry);
    if ((verdict == null || !verdict.matched()) && throttle.blocked(client)) {
      return throttled();
    }
    if (entry == null) {
      return invalid(request, key == null ? null : key.id(), key == null ? "malformed" : "unknown_key");
    }
    if (verdict == null) {
      try {
        verdict = verifier.verify(key, entry);
      } catch (KeyVerifier.Busy e) {
        audit.outcome("busy");
        return Problem.of(503, "authentication-busy", "Service Unavailable",
            "The gateway is checking too many new API keys at once.", "Retry in a second.")
            .toResponse(Headers.of("Retry-After", "1"));
      }
    }
    if (!verdict.matched()) {
      return invalid(request, key.id(), "wrong_secret");
    }
    StoredKey stored = entry.key();
    Instant now = clock.instant();
    if (stored.disabled()) {
      return unauthorized(request, key.id(), "revoked", Problem.of(401, "revoked-api-key", "Unauthorized",
          "This API key has been revoked.", "Ask for a new key."), true);
    }
    if (stored.expiredAt(now)) {
      return unauthorized(request, key.id(), "expired", Problem.of(401, "expired-api-key", "Unauthorized",
          "This API key expired at " + stored.expires() + ".", "Ask for a new key."), true);
    }
    if (!verdict.matchedHash().equals(stored.hash())
        && (stored.previousHashExpires() == null || !now.isBefore(stored.previousHashExpires()))) {
      return unauthorized(request, key.id(), "rotated", Problem.of(401, "rotated-api-key", "Unauthorized",
          "This API key was replaced by a new one, and its overlap has ended.", "Use the new key."), true);
    }
    return permit(request, chain, credential, key, entry);
  }

  /** The checks after the secret: where the key may come from, which routes, addresses and scopes. */
  private Response permit(Request request, Chain chain, Credential credential, ApiKey key, KeyRing.Entry entry)
      throws IOException {
    StoredKey stored = entry.key();
    InetAddress client = request.clientAddress();
    if (credential.source() == Source.QUERY && !stored.allowQueryKey()) {
      return unauthorized(request, key.id(), "query_not_allowed", Problem.of(401, "api-key-in-query-not-allowed",
          "Unauthorized", "This API key may not be sent in the URL, where logs and browser histories keep it.",
          "Send it as 'Authorization: Bearer ...' or in the X-API-Key header, or ask the operator to allow the "
              + "query parameter for this key (add-key --allow-query-key)."), true);
    }
    if (!entry.allowsLease(request.route())) {
      return refuse(request, key.id(), "lease_not_allowed", Problem.of(403, "lease-not-allowed", "Forbidden",
          "The API key '" + key.id() + "' may not reach '" + request.route() + "'.",
          "Use a key issued for this lease, or ask for one."));
    }
    if (!entry.allowsClient(client)) {
      return refuse(request, key.id(), "client_not_allowed", Problem.of(403, "client-address-not-allowed", "Forbidden",
          "The API key '" + key.id() + "' may not be used from this address.",
          "Use the key from an address it was issued for."));
    }
    Set<String> needed = requiredScopes.getOrDefault(request.route(), defaultScopes);
    if (!needed.isEmpty() && !entry.principal().scopes().containsAll(needed)) {
      Set<String> missing = new TreeSet<>(needed);
      stored.scopes().forEach(missing::remove);
      return refuse(request, key.id(), "scope_missing", Problem.of(403, "scope-missing", "Forbidden",
          "Requests to '" + request.route() + "' need the scope(s) " + String.join(", ", missing)
              + ", which the API key '" + key.id() + "' does not have.", "Ask for a key with those scopes."));
    }
    audit.outcome("allowed");
    return chain.proceed(withoutKeys(request, entry.principal()));
  }

  private Response throttled() {
    audit.outcome("throttled");
    return Problem.of(429, "too-many-failed-authentications", "Too Many Requests",
        "Too many requests from this address had no valid API key.",
        "Wait before trying again, and check the key.")
        .toResponse(Headers.of("Retry-After", Long.toString(throttle.retryAfterSeconds())));
  }

  /** @return the key the request carries, looked for in the order Bearer, X-API-Key, api_key */
  static Credential find(Request request) {
    String auth = request.headers().first("Authorization");
    if (auth != null && auth.length() > 7 && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String token = auth.substring(7).trim();
      if (token.startsWith(ApiKey.PREFIX)) {
        return new Credential(token, Source.AUTHORIZATION);
      }
    }
    String header = request.headers().first(HEADER_NAME);
    if (header != null && !header.isBlank()) {
      return new Credential(header.trim(), Source.HEADER);
    }
    String query = request.rawQuery() == null ? null : request.queryParameter(QUERY_PARAMETER);
    if (query != null && !query.isEmpty()) {
      return new Credential(query, Source.QUERY);
    }
    return null;
  }

  /** Removes every place a key may be, so that none reaches the service behind the gateway. */
  static Request withoutKeys(Request request) {
    return withoutKeys(request, null);
  }

  /**
   * Removes every key and sets the principal, in one copy of the request: this runs on every
   * authenticated request.
   */
  private static Request withoutKeys(Request request, dev.portalgateway.api.Principal principal) {
    Headers headers = request.headers();
    boolean keyHeader = headers.contains(HEADER_NAME);
    String auth = headers.first("Authorization");
    boolean bearerKey = auth != null && auth.length() > 7 && auth.regionMatches(true, 0, "Bearer ", 0, 7)
        && auth.substring(7).trim().startsWith(ApiKey.PREFIX);
    boolean queryKey = request.rawQuery() != null && request.queryParameter(QUERY_PARAMETER) != null;
    if (!keyHeader && !bearerKey && !queryKey && principal == null) {
      return request;
    }
    Request.Builder b = request.toBuilder();
    if (keyHeader || bearerKey) {
      Headers.Builder h = headers.toBuilder();
      if (keyHeader) {
        h.remove(HEADER_NAME);
      }
      if (bearerKey) {
        h.remove("Authorization");
      }
      b.headers(h.build());
    }
    if (queryKey) {
      // Names are compared decoded, so api%5Fkey goes too.
      b.rawQuery(request.withoutQueryParameter(QUERY_PARAMETER).rawQuery());
    }
    if (principal != null) {
      b.attribute(StandardAttributes.PRINCIPAL, principal);
    }
    return b.build();
  }

  private boolean clientAllowed(InetAddress client) {
    return !CidrBlock.anyContains(denied, client) && (allowed.isEmpty() || CidrBlock.anyContains(allowed, client));
  }

  private Response invalid(Request request, String keyId, String reason) {
    if (throttle.recordFailure(request.clientAddress())) {
      audit.failure(request, keyId, "throttle_started", 401); // this one still gets 401; the next ones 429
    }
    return unauthorized(request, keyId, reason, Problem.of(401, "invalid-api-key", "Unauthorized",
        "The API key is not valid.", "Check that the whole key was copied; a key is shown once, when it is made."), true);
  }

  private Response unauthorized(Request request, String keyId, String reason, Problem problem, boolean presented) {
    audit.outcome(reason);
    audit.failure(request, keyId, reason, 401);
    // RFC 6750: a presented but unusable token is "invalid_token"; no token at all gets the bare challenge.
    String challenge = presented ? CHALLENGE + ", error=\"invalid_token\"" : CHALLENGE;
    return problem.toResponse(Headers.of("WWW-Authenticate", challenge));
  }

  private Response refuse(Request request, String keyId, String reason, Problem problem) {
    audit.outcome(reason);
    audit.failure(request, keyId, reason, 403);
    return problem.toResponse();
  }
}
