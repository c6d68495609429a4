package dev.portalgateway.plugins.sso;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Browser login with OpenID Connect for one issuer and client: the authorization code flow with
 * PKCE (S256), {@code state} and {@code nonce}; server-side sessions behind a small signed cookie;
 * refresh before the access token expires; RP-initiated logout. The login's state is kept in the
 * session store (so a login started on one replica can finish on another), taken once, and bound
 * to the browser that started it by a cookie of its own.
 */
final class BrowserLogin implements AutoCloseable {
  static final String BASE = "/oauth2";
  static final String LOGIN_COOKIE = "portal_login";
  private static final Duration LOGIN_TTL = Duration.ofMinutes(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SsoSettings settings;
  private final Issuer issuer;
  private final SessionStore store;
  private final SessionCookies cookies;
  private final OidcClient oidc;
  private final Clock clock;
  private final PluginMetrics.Counter outcomes;
  private final dev.portalgateway.api.PluginContext context;

  /** A session found for a request, or why there is none usable. */
  record Found(String id, BrowserSession session, String reason) {}

  BrowserLogin(SsoSettings settings, Issuer issuer, SessionStore store, SessionCookies cookies, Clock clock,
      PluginMetrics.Counter outcomes, dev.portalgateway.api.PluginContext context) {
    this.settings = settings;
    this.issuer = issuer;
    this.store = store;
    this.cookies = cookies;
    this.clock = clock;
    this.outcomes = outcomes;
    this.context = context;
    this.oidc = new OidcClient(settings.clientId(), settings.clientSecret(), settings.discoveryTimeout());
  }

  /** @return which issuer and client this login is for; logins in progress name it */
  String key() {
    return key(issuer.url(), settings.clientId());
  }

  static String key(String issuer, String clientId) {
    return issuer + " " + clientId;
  }

  SessionStore store() {
    return store;
  }

  String cookieName() {
    return settings.session().cookieName();
  }

  // ---- starting a login

  /** Sends the browser to the IdP, to come back to {@code returnTo} (a path on this gateway). */
  Response start(Request request, String returnTo) throws IOException {
    Issuer.Ready ready = issuer.awaitReady();
    if (ready == null || ready.endpoints().authorization() == null || ready.endpoints().token() == null) {
      outcomes.inc("issuer_unavailable");
      return Problem.of(503, "authorization-server-unavailable", "Service Unavailable",
          "The identity provider " + issuer.url() + " cannot be reached for login right now.",
          "The gateway keeps trying; reload the page shortly.").toResponse(Headers.of("Retry-After",
          Long.toString(Math.max(1, settings.discoveryRetry().toSeconds()))));
    }
    String state = SessionCookies.randomToken();
    String verifier = SessionCookies.randomToken();
    String nonce = SessionCookies.randomToken();
    String binding = SessionCookies.randomToken();
    PendingLogin pending = new PendingLogin(key(), verifier, nonce, returnTo, binding);
    store.put("login:" + SessionCookies.storeKey(state), JSON.writeValueAsString(pending), LOGIN_TTL);
    String authorization = ready.endpoints().authorization();
    String location = authorization + (authorization.contains("?") ? "&" : "?")
        + "response_type=code&client_id=" + enc(settings.clientId())
        + "&redirect_uri=" + enc(callbackUrl(request))
        + "&scope=" + enc(String.join(" ", settings.loginScopes()))
        + "&state=" + enc(state) + "&nonce=" + enc(nonce)
        + "&code_challenge=" + enc(challenge(verifier)) + "&code_challenge_method=S256";
    outcomes.inc("login_started");
    return Response.of(302, Headers.of("Location", location, "Cache-Control", "no-store",
        "Set-Cookie", cookie(request, LOGIN_COOKIE, binding, BASE + "/callback", LOGIN_TTL)), Body.empty());
  }

  String callbackUrl(Request request) {
    return request.baseUrl() + BASE + "/callback";
  }

  private static String challenge(String verifier) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  // ---- the IdP sends the browser back

  /** Finishes a login whose state named this configuration. */
  Response finish(Request request, PendingLogin pending) throws IOException {
    String binding = cookieValue(request, LOGIN_COOKIE);
    if (binding == null || !MessageDigest.isEqual(binding.getBytes(StandardCharsets.US_ASCII),
        pending.binding().getBytes(StandardCharsets.US_ASCII))) {
      outcomes.inc("login_foreign_state");
      return page(request, 400, "login-state-foreign", "This login was started in another browser.",
          "Start again from the page you wanted.");
    }
    String code = request.queryParameter("code");
    if (code == null || code.isEmpty()) {
      outcomes.inc("login_no_code");
      return page(request, 400, "login-failed", "The identity provider sent no authorization code.", null);
    }
    Issuer.Ready ready = issuer.awaitReady();
    if (ready == null) {
      outcomes.inc("issuer_unavailable");
      return page(request, 503, "authorization-server-unavailable", "The identity provider cannot be reached.", null);
    }
    OidcClient.Tokens tokens;
    JWTClaimsSet claims;
    try {
      tokens = oidc.exchangeCode(ready.endpoints().token(), code, callbackUrl(request), pending.verifier());
      if (tokens.idToken() == null) {
        throw new OidcClient.Failed("the token endpoint sent no id_token (is 'openid' among the scopes?)", false);
      }
      DefaultJWTProcessor<SecurityContext> processor = issuer.idTokenProcessor(ready, settings.clientId());
      claims = processor.process(tokens.idToken(), null);
    } catch (OidcClient.Failed e) {
      outcomes.inc("login_token_refused");
      context.event(Level.WARNING, "browser login failed at the token endpoint", Map.of("issuer", issuer.url(),
          "error", String.valueOf(e.getMessage())));
      return page(request, 502, "login-failed", "The identity provider refused to finish the login.", null);
    } catch (java.text.ParseException | com.nimbusds.jose.proc.BadJOSEException | com.nimbusds.jose.JOSEException e) {
      outcomes.inc("login_bad_id_token");
      context.event(Level.WARNING, "browser login: the ID token was refused", Map.of("issuer", issuer.url(),
          "error", String.valueOf(e.getMessage())));
      return page(request, 401, "login-failed", "The identity provider's ID token did not check.", null);
    }
    Object nonce = claims.getClaim("nonce");
    if (!(nonce instanceof String n) || !MessageDigest.isEqual(n.getBytes(StandardCharsets.UTF_8),
        pending.nonce().getBytes(StandardCharsets.UTF_8))) {
      outcomes.inc("login_wrong_nonce");
      context.event(Level.WARNING, "browser login: the ID token's nonce is not this login's", Map.of("issuer", issuer.url()));
      return page(request, 401, "login-failed", "The ID token was not issued for this login.", null);
    }
    Map<String, Object> all = new LinkedHashMap<>(claims.getClaims());
    boolean ask = settings.userinfo().equals("always")
        || (settings.userinfo().equals("auto") && groups(all).isEmpty());
    if (ask && ready.endpoints().userinfo() != null) {
      try {
        JsonNode info = oidc.userinfo(ready.endpoints().userinfo(), tokens.accessToken());
        if (claims.getSubject().equals(info.path("sub").asText(null))) { // OIDC Core 5.3.2: must match
          Map<String, Object> extra = JSON.convertValue(info, Map.class);
          extra.forEach(all::putIfAbsent);
        }
      } catch (IOException e) {
        context.event(Level.WARNING, "browser login: userinfo not read; groups from the ID token only",
            Map.of("issuer", issuer.url(), "error", String.valueOf(e.getMessage())));
      }
    }
    long now = clock.millis();
    String email = string(all.get("email"));
    String name = email != null ? email : string(all.get("preferred_username")) != null
        ? string(all.get("preferred_username")) : string(all.get("name"));
    List<String> scopes = tokens.scope() == null ? List.of() : List.of(tokens.scope().trim().split("\\s+"));
    BrowserSession session = new BrowserSession(issuer.url(), settings.clientId(), claims.getSubject(), name, email,
        groups(all), scopes, tokens.idToken(), tokens.accessToken(), tokens.refreshToken(),
        tokens.expiresInSeconds() < 0 ? 0 : now + tokens.expiresInSeconds() * 1000, now, now);
    String id = SessionCookies.newId();
    save(id, session, now);
    outcomes.inc("login_ok");
    context.event(Level.INFO, "browser login", Map.of("issuer", issuer.url(), "subject", claims.getSubject()));
    Headers.Builder h = Headers.builder()
        .add("Location", request.baseUrl() + pending.returnTo())
        .add("Cache-Control", "no-store")
        .add("Set-Cookie", cookie(request, cookieName(), cookies.sign(id), "/", null))
        .add("Set-Cookie", cookie(request, LOGIN_COOKIE, "", BASE + "/callback", Duration.ZERO));
    return Response.of(302, h.build(), Body.empty());
  }

  // ---- a request with a session cookie

  /**
   * The request's session, refreshed when its access token is about to expire, its last use
   * noted now and then.
   */
  Found session(Request request) throws IOException {
    String id = cookies.verify(cookieValue(request, cookieName()));
    if (id == null) {
      return new Found(null, null, cookieValue(request, cookieName()) == null ? "no_session" : "bad_cookie");
    }
    String key = "session:" + SessionCookies.storeKey(id);
    String json = store.get(key);
    if (json == null) {
      return new Found(id, null, "session_unknown");
    }
    BrowserSession s = JSON.readValue(json, BrowserSession.class);
    if (!s.issuer().equals(issuer.url()) || !s.clientId().equals(settings.clientId())) {
      return new Found(id, null, "session_other_issuer");
    }
    long now = clock.millis();
    SsoSettings.SessionSettings ss = settings.session();
    if (now >= s.createdAt() + ss.absoluteTimeout().toMillis()) {
      store.delete(key);
      return new Found(id, null, "session_expired");
    }
    if (now >= s.lastSeenAt() + ss.idleTimeout().toMillis()) {
      store.delete(key);
      return new Found(id, null, "session_idle");
    }
    boolean changed = false;
    if (s.accessExpiresAt() > 0 && now >= s.accessExpiresAt() - ss.refreshBefore().toMillis()) {
      BrowserSession refreshed = refresh(key, s, now);
      if (refreshed == null) {
        if (now >= s.accessExpiresAt()) {
          store.delete(key);
          return new Found(id, null, "session_refresh_failed");
        }
      } else {
        s = refreshed;
        changed = true;
      }
    }
    // Writes are spread out: the idle clock needs no more precision than a twentieth of itself.
    long touchEvery = Math.max(1_000, ss.idleTimeout().toMillis() / 20);
    if (changed || now - s.lastSeenAt() >= touchEvery) {
      s = s.seenAt(now);
      save(id, s, now);
    }
    return new Found(id, s, null);
  }

  private BrowserSession refresh(String key, BrowserSession s, long now) throws IOException {
    if (s.refreshToken() == null) {
      return null;
    }
    Issuer.Ready ready = issuer.awaitReady();
    if (ready == null || ready.endpoints().token() == null) {
      return null;
    }
    try {
      OidcClient.Tokens t = oidc.refresh(ready.endpoints().token(), s.refreshToken());
      outcomes.inc("session_refreshed");
      return s.withTokens(t.accessToken(), t.refreshToken(), t.idToken(),
          t.expiresInSeconds() < 0 ? 0 : now + t.expiresInSeconds() * 1000);
    } catch (OidcClient.Failed e) {
      // Another replica may have refreshed first, and the IdP rotated the refresh token: read again.
      String again = store.get(key);
      if (again != null) {
        BrowserSession other = JSON.readValue(again, BrowserSession.class);
        if (other.accessExpiresAt() > s.accessExpiresAt()) {
          return other;
        }
      }
      outcomes.inc(e.invalidGrant ? "session_refresh_refused" : "session_refresh_failed");
      context.event(Level.WARNING, "a browser session's refresh failed", Map.of("issuer", issuer.url(),
          "subject", s.subject(), "error", String.valueOf(e.getMessage())));
      return null;
    }
  }

  private void save(String id, BrowserSession s, long now) throws IOException {
    SsoSettings.SessionSettings ss = settings.session();
    long left = Math.min(s.createdAt() + ss.absoluteTimeout().toMillis() - now, ss.idleTimeout().toMillis());
    // The store drops it a minute after it ends; until then the gateway itself says why it ended.
    store.put("session:" + SessionCookies.storeKey(id), JSON.writeValueAsString(s),
        Duration.ofMillis(Math.max(0, left) + 60_000));
  }

  /** @return the principal a session stands for */
  Principal principal(BrowserSession s) {
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put(BearerFilter.SOURCE + ".issuer", s.issuer());
    facts.put(BearerFilter.SOURCE + ".session", "browser");
    if (s.email() != null) {
      facts.put(BearerFilter.SOURCE + ".email", s.email());
    }
    if (!s.groups().isEmpty()) {
      facts.put(BearerFilter.SOURCE + ".groups", String.join(",", s.groups()));
    }
    return new Principal(s.subject(), s.name(), BearerFilter.SOURCE, new LinkedHashSet<>(s.scopes()), facts);
  }

  // ---- logout

  Response logout(Request request, Found found) throws IOException {
    if (found.id() != null) {
      store.delete("session:" + SessionCookies.storeKey(found.id()));
    }
    String signedOut = request.baseUrl() + BASE + "/signed-out";
    String location = signedOut;
    Issuer.Ready ready = issuer.ready();
    if (found.session() != null && ready != null && ready.endpoints().endSession() != null) {
      String end = ready.endpoints().endSession();
      location = end + (end.contains("?") ? "&" : "?") + "id_token_hint=" + enc(found.session().idToken())
          + "&post_logout_redirect_uri=" + enc(signedOut) + "&client_id=" + enc(settings.clientId());
    }
    outcomes.inc("logout");
    if (found.session() != null) {
      context.event(Level.INFO, "browser logout", Map.of("issuer", issuer.url(), "subject", found.session().subject()));
    }
    return Response.of(302, Headers.builder().add("Location", location).add("Cache-Control", "no-store")
        .add("Set-Cookie", cookie(request, cookieName(), "", "/", Duration.ZERO)).build(), Body.empty());
  }

  // ---- helpers

  List<String> groups(Map<String, Object> claims) {
    List<String> out = new ArrayList<>();
    for (String name : settings.groupsClaims()) {
      Object v = claims.get(name);
      if (v instanceof Collection<?> c) {
        c.forEach(x -> out.add(String.valueOf(x)));
      } else if (v instanceof String s && !s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  private static String string(Object v) {
    return v instanceof String s && !s.isEmpty() ? s : null;
  }

  /** A cookie of ours: HttpOnly, SameSite=Lax, Secure when the gateway is reached over https. */
  static String cookie(Request request, String name, String value, String path, Duration maxAge) {
    StringBuilder c = new StringBuilder(name).append('=').append(value).append("; Path=").append(path)
        .append("; HttpOnly; SameSite=Lax");
    if (request.baseUrl().startsWith("https://")) {
      c.append("; Secure");
    }
    if (maxAge != null) {
      c.append("; Max-Age=").append(maxAge.toSeconds());
    }
    return c.toString();
  }

  /** @return the value of cookie {@code name} in the request, or null */
  static String cookieValue(Request request, String name) {
    for (String header : request.headers().all("Cookie")) {
      for (String pair : header.split(";")) {
        String p = pair.trim();
        int eq = p.indexOf('=');
        if (eq > 0 && p.substring(0, eq).equals(name)) {
          return p.substring(eq + 1);
        }
      }
    }
    return null;
  }

  /** @return the headers without the named cookies (the gateway's own never reach the upstream) */
  static Headers withoutCookies(Headers headers, String... names) {
    if (!headers.contains("Cookie")) {
      return headers;
    }
    List<String> kept = new ArrayList<>();
    for (String header : headers.all("Cookie")) {
      for (String pair : header.split(";")) {
        String p = pair.trim();
        int eq = p.indexOf('=');
        String name = eq < 0 ? p : p.substring(0, eq);
        if (!p.isEmpty() && !List.of(names).contains(name)) {
          kept.add(p);
        }
      }
    }
    Headers.Builder b = headers.toBuilder().remove("Cookie");
    if (!kept.isEmpty()) {
      b.add("Cookie", String.join("; ", kept));
    }
    return b.build();
  }

  /** An error page for a person: short HTML, or the problem document for a client that asks for JSON. */
  static Response page(Request request, int status, String type, String detail, String hint) {
    Problem problem = Problem.of(status, type, status == 400 ? "Bad Request" : status == 401 ? "Unauthorized"
        : status == 502 ? "Bad Gateway" : "Service Unavailable", detail, hint);
    String accept = request.headers().first("Accept");
    if (accept == null || !accept.contains("text/html")) {
      return problem.toResponse();
    }
    String html = "<!doctype html><meta charset=utf-8><title>Login</title><h1 id=problem>" + escape(detail)
        + "</h1>" + (hint == null ? "" : "<p>" + escape(hint)) + "\n";
    return Response.of(status, Headers.of("Content-Type", "text/html; charset=utf-8", "Cache-Control", "no-store"),
        Body.of(html));
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    oidc.close();
  }
}
