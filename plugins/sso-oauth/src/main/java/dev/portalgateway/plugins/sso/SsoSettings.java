package dev.portalgateway.plugins.sso;

import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The plugin's settings, everything under {@code plugins.sso-oauth}; docs/plugins/sso-oauth.md
 * describes each key.
 *
 * @param issuers the issuer URLs whose tokens are accepted (OIDC discovery, then RFC 8414)
 * @param audiences audiences accepted beside the route's own resource URL
 * @param algorithms the signature algorithms accepted
 * @param clockSkew how far {@code exp} and {@code nbf} may be off
 * @param requiredScopes per route, the scopes a token must hold; {@code "*"} for every other route
 * @param allowedGroups per route, the groups of which a caller must be in one; {@code "*"} for every other route
 * @param groupsClaims the claims that hold groups or roles
 * @param subjectClaim the claim that identifies the caller
 * @param scopesSupported scopes published in the protected-resource metadata
 * @param rootResource the route that {@code /.well-known/oauth-protected-resource} itself describes
 * @param forwardToken whether the bearer token goes on to the upstream (off: MCP forbids passing it through)
 * @param discoveryRetry how long to wait before asking an unreachable issuer again
 * @param discoveryTimeout how long one discovery or key-set fetch may take
 * @param jwksRefresh how long fetched keys are used before they are fetched again
 * @param jwksMinInterval the least time between two key-set fetches caused by an unknown key id
 * @param tokenCacheSize the most verified tokens to remember (never past their expiry)
 */
record SsoSettings(
    List<String> issuers,
    List<String> audiences,
    List<String> algorithms,
    Duration clockSkew,
    Map<String, List<String>> requiredScopes,
    Map<String, List<String>> allowedGroups,
    List<String> groupsClaims,
    String subjectClaim,
    List<String> scopesSupported,
    String rootResource,
    Boolean forwardToken,
    Duration discoveryRetry,
    Duration discoveryTimeout,
    Duration jwksRefresh,
    Duration jwksMinInterval,
    Integer tokenCacheSize) {

  /** Asymmetric algorithms only: a shared secret would let anyone holding it mint tokens. */
  static final Set<String> ALLOWED_ALGORITHMS = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
      "ES256", "ES384", "ES512", "EdDSA", "Ed25519");

  /** Applies the defaults. */
  SsoSettings {
    issuers = issuers == null ? List.of() : List.copyOf(issuers);
    audiences = audiences == null ? List.of() : List.copyOf(audiences);
    algorithms = algorithms == null ? List.of("RS256", "PS256", "ES256", "EdDSA") : List.copyOf(algorithms);
    clockSkew = clockSkew == null ? Duration.ofSeconds(60) : clockSkew;
    requiredScopes = requiredScopes == null ? Map.of() : Map.copyOf(requiredScopes);
    allowedGroups = allowedGroups == null ? Map.of() : Map.copyOf(allowedGroups);
    groupsClaims = groupsClaims == null ? List.of("groups", "roles") : List.copyOf(groupsClaims);
    subjectClaim = subjectClaim == null || subjectClaim.isBlank() ? "sub" : subjectClaim;
    scopesSupported = scopesSupported == null ? List.of() : List.copyOf(scopesSupported);
    rootResource = rootResource == null || rootResource.isBlank() ? null : rootResource;
    forwardToken = forwardToken != null && forwardToken;
    discoveryRetry = discoveryRetry == null ? Duration.ofSeconds(10) : discoveryRetry;
    discoveryTimeout = discoveryTimeout == null ? Duration.ofSeconds(5) : discoveryTimeout;
    jwksRefresh = jwksRefresh == null ? Duration.ofMinutes(15) : jwksRefresh;
    jwksMinInterval = jwksMinInterval == null ? Duration.ofSeconds(30) : jwksMinInterval;
    tokenCacheSize = tokenCacheSize == null ? 10_000 : tokenCacheSize;
  }

  /**
   * Binds and checks the settings.
   *
   * @throws InvalidConfigException naming the key and what is wrong
   */
  static SsoSettings from(PluginConfig config) throws InvalidConfigException {
    SsoSettings s = config.bind(SsoSettings.class);
    String p = config.path();
    if (s.issuers().isEmpty()) {
      throw new InvalidConfigException(p + ".issuers: name at least one issuer URL, such as "
          + "https://login.example.com/realms/main (the 'issuer' of its discovery document)");
    }
    for (String issuer : s.issuers()) {
      URI uri;
      try {
        uri = new URI(issuer);
      } catch (Exception e) {
        throw new InvalidConfigException(p + ".issuers: '" + issuer + "' is not a URL");
      }
      boolean https = "https".equals(uri.getScheme());
      boolean loopbackHttp = "http".equals(uri.getScheme())
          && ("localhost".equals(uri.getHost()) || "127.0.0.1".equals(uri.getHost()) || "[::1]".equals(uri.getHost()));
      if (!(https || loopbackHttp) || uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new InvalidConfigException(p + ".issuers: '" + issuer + "' must be an https URL without query or "
            + "fragment (plain http only on localhost, for tests)");
      }
    }
    for (String alg : s.algorithms()) {
      if (!ALLOWED_ALGORITHMS.contains(alg)) {
        throw new InvalidConfigException(p + ".algorithms: '" + alg + "' is not accepted; use asymmetric ones from "
            + new java.util.TreeSet<>(ALLOWED_ALGORITHMS) + " ('none' and HMAC would let anyone forge tokens)");
      }
    }
    if (s.algorithms().isEmpty()) {
      throw new InvalidConfigException(p + ".algorithms: must name at least one algorithm");
    }
    if (s.clockSkew().isNegative() || s.clockSkew().compareTo(Duration.ofMinutes(5)) > 0) {
      throw new InvalidConfigException(p + ".clock_skew: must be between 0s and 5m");
    }
    positive(s.discoveryRetry(), p + ".discovery_retry");
    positive(s.discoveryTimeout(), p + ".discovery_timeout");
    positive(s.jwksRefresh(), p + ".jwks_refresh");
    positive(s.jwksMinInterval(), p + ".jwks_min_interval");
    if (s.tokenCacheSize() < 0) {
      throw new InvalidConfigException(p + ".token_cache_size: must not be negative");
    }
    return s;
  }

  private static void positive(Duration d, String key) throws InvalidConfigException {
    if (d.isZero() || d.isNegative()) {
      throw new InvalidConfigException(key + ": must be more than 0");
    }
  }

  /** @return the scopes a token must hold on {@code route} */
  List<String> requiredScopesFor(String route) {
    List<String> s = requiredScopes.get(route);
    return s != null ? s : requiredScopes.getOrDefault("*", List.of());
  }

  /** @return the groups of which a caller on {@code route} must be in one; empty for anyone */
  List<String> allowedGroupsFor(String route) {
    List<String> g = allowedGroups.get(route);
    return g != null ? g : allowedGroups.getOrDefault("*", List.of());
  }
}
