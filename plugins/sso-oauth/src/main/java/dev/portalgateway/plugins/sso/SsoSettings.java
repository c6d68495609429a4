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
 * @param mode {@code bearer} (tokens only), {@code browser} (login with a session cookie) or {@code both}
 * @param clientId the gateway's client id at the issuer, for browser login
 * @param clientSecret its secret (none for a public client with PKCE only)
 * @param loginIssuer the issuer people log in at on this route; the first of {@code issuers} by default
 * @param loginScopes the scopes asked for at login
 * @param userinfo when to read the userinfo endpoint at login: {@code auto} (when the ID token has
 *     no groups), {@code always}, {@code never}
 * @param forwardAccessToken whether a browser session's access token goes to the upstream as a bearer token
 * @param session the browser sessions' settings
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
    Integer tokenCacheSize,
    String mode,
    String clientId,
    String clientSecret,
    String loginIssuer,
    List<String> loginScopes,
    String userinfo,
    Boolean forwardAccessToken,
    SessionSettings session) {

  static final String BEARER = "bearer";
  static final String BROWSER = "browser";
  static final String BOTH = "both";

  /**
   * Browser sessions.
   *
   * @param store {@code memory} (one gateway; kept in the data directory across restarts) or {@code redis}
   * @param redisUrl the Redis server sessions live in, for several gateways
   * @param redisTimeout how long one Redis call may take
   * @param cookieName the session cookie's name
   * @param absoluteTimeout the longest a session lasts, however active
   * @param idleTimeout how long a session lasts without a request
   * @param refreshBefore how long before the access token's expiry it is refreshed
   * @param signingKey the key that signs session cookies (base64, at least 32 bytes); shared by replicas
   * @param signingKeyFile a file holding that key instead
   */
  record SessionSettings(String store, String redisUrl, Duration redisTimeout, String cookieName,
      Duration absoluteTimeout, Duration idleTimeout, Duration refreshBefore, String signingKey, String signingKeyFile) {
    SessionSettings {
      store = store == null ? "memory" : store.toLowerCase(java.util.Locale.ROOT);
      redisTimeout = redisTimeout == null ? Duration.ofMillis(500) : redisTimeout;
      cookieName = cookieName == null || cookieName.isBlank() ? "portal_session" : cookieName;
      absoluteTimeout = absoluteTimeout == null ? Duration.ofHours(12) : absoluteTimeout;
      idleTimeout = idleTimeout == null ? Duration.ofHours(1) : idleTimeout;
      refreshBefore = refreshBefore == null ? Duration.ofSeconds(60) : refreshBefore;
      signingKey = signingKey == null || signingKey.isBlank() ? null : signingKey.trim();
      signingKeyFile = signingKeyFile == null || signingKeyFile.isBlank() ? null : signingKeyFile;
    }

    static SessionSettings defaults() {
      return new SessionSettings(null, null, null, null, null, null, null, null, null);
    }

    @Override
    public String toString() {
      return "SessionSettings[" + store + ", " + cookieName + "]"; // never the key
    }
  }

  @Override
  public String toString() {
    return "SsoSettings[issuers=" + issuers + ", mode=" + mode + ", clientId=" + clientId + "]"; // never the secret
  }

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
    mode = mode == null ? BEARER : mode.toLowerCase(java.util.Locale.ROOT);
    clientId = clientId == null || clientId.isBlank() ? null : clientId;
    clientSecret = clientSecret == null || clientSecret.isBlank() ? null : clientSecret;
    loginIssuer = loginIssuer == null || loginIssuer.isBlank() ? (issuers.isEmpty() ? null : issuers.get(0)) : loginIssuer;
    loginScopes = loginScopes == null ? List.of("openid", "profile", "email") : List.copyOf(loginScopes);
    userinfo = userinfo == null ? "auto" : userinfo.toLowerCase(java.util.Locale.ROOT);
    forwardAccessToken = forwardAccessToken != null && forwardAccessToken;
    session = session == null ? SessionSettings.defaults() : session;
  }

  /** @return whether people log in with a browser on this configuration's routes */
  boolean browserLogin() {
    return !mode.equals(BEARER);
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
    if (!List.of(BEARER, BROWSER, BOTH).contains(s.mode())) {
      throw new InvalidConfigException(p + ".mode: must be bearer, browser or both, not '" + s.mode() + "'");
    }
    if (!List.of("auto", "always", "never").contains(s.userinfo())) {
      throw new InvalidConfigException(p + ".userinfo: must be auto, always or never");
    }
    if (s.browserLogin()) {
      if (s.clientId() == null) {
        throw new InvalidConfigException(p + ".client_id: browser login (mode " + s.mode() + ") needs the gateway's "
            + "client id at the issuer (client_id: ${OIDC_CLIENT_ID})");
      }
      if (!s.issuers().contains(s.loginIssuer())) {
        throw new InvalidConfigException(p + ".login_issuer: '" + s.loginIssuer() + "' is not one of issuers");
      }
      if (!s.loginScopes().contains("openid")) {
        throw new InvalidConfigException(p + ".login_scopes: must include openid (browser login is OpenID Connect)");
      }
    }
    SessionSettings ss = s.session();
    if (!List.of("memory", "redis").contains(ss.store())) {
      throw new InvalidConfigException(p + ".session.store: must be memory or redis, not '" + ss.store() + "'");
    }
    if (ss.store().equals("redis")) {
      if (ss.redisUrl() == null) {
        throw new InvalidConfigException(p + ".session.redis_url: the redis store needs a URL (redis://HOST:6379)");
      }
      try {
        dev.portalgateway.redis.RedisEndpoint.parse(ss.redisUrl());
      } catch (IllegalArgumentException e) {
        throw new InvalidConfigException(p + ".session.redis_url: " + e.getMessage());
      }
      if (ss.signingKey() == null && ss.signingKeyFile() == null) {
        throw new InvalidConfigException(p + ".session.signing_key: gateways sharing sessions in Redis must share the "
            + "key that signs the cookies: set signing_key (base64, 32 bytes or more; from the environment) or "
            + "signing_key_file");
      }
    }
    if (!ss.cookieName().matches("[A-Za-z0-9_-]{1,64}")) {
      throw new InvalidConfigException(p + ".session.cookie_name: letters, digits, _ and - only");
    }
    positive(ss.absoluteTimeout(), p + ".session.absolute_timeout");
    positive(ss.idleTimeout(), p + ".session.idle_timeout");
    positive(ss.redisTimeout(), p + ".session.redis_timeout");
    if (ss.refreshBefore().isNegative()) {
      throw new InvalidConfigException(p + ".session.refresh_before: must not be negative");
    }
    if (ss.signingKey() != null) {
      try {
        SessionCookies.decodeKey(ss.signingKey());
      } catch (IllegalArgumentException e) {
        throw new InvalidConfigException(p + ".session.signing_key: " + e.getMessage());
      }
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
