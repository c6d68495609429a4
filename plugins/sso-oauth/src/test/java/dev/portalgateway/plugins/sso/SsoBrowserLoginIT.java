package dev.portalgateway.plugins.sso;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import dev.portalgateway.redis.RedisServerProcess;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.OAuth2HttpResponseKt;
import no.nav.security.mock.oauth2.http.OAuth2HttpRouterKt;
import no.nav.security.mock.oauth2.http.Route;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Cookie;

/**
 * Browser login through the gateway as people meet it: a real headless Chromium, a real OIDC
 * provider (mock-oauth2-server) and the plugin's built jar in a gateway in front of a backend that
 * shows what it received. Everything is on localhost, the host name the IdP's issuer and the
 * browser share.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SsoBrowserLoginIT {
  private static final String KEY = Base64.getEncoder().encodeToString("a-session-signing-key-for-tests!".getBytes());

  @TempDir
  static Path pluginsDir;

  @TempDir
  Path dir;

  private MockOAuth2Server idp;
  private String issuer;
  private TestBackend backend;
  private TestGateway gateway;
  private TestGateway second;
  private Browser browser;
  private final AtomicReference<String> seenCookies = new AtomicReference<>();
  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void installBuiltJar() throws Exception {
    Path jar = Path.of("target/sso-oauth.jar");
    assertThat(jar).as("the plugin jar, built in the package phase").exists();
    Files.copy(jar, pluginsDir.resolve("sso-oauth.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  @BeforeEach
  void backend() throws Exception {
    backend = new TestBackend().route("/", ex -> {
      seenCookies.set(ex.getRequestHeaders().getFirst("Cookie"));
      TestBackend.respond(ex, 200, "text/html", "<!doctype html><h1 id=page>" + ex.getRequestURI() + "</h1>");
    });
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.close();
    }
    for (TestGateway g : new TestGateway[] {gateway, second}) {
      if (g != null) {
        g.close();
      }
    }
    backend.close();
    if (idp != null) {
      idp.shutdown();
    }
  }

  /** An IdP with its login form (a person types a name), or one that logs "alice" in at once with short tokens. */
  private void idp(boolean interactive, long tokenSeconds, Map<String, Object> claims, Route... routes) {
    OAuth2Config config = interactive ? new OAuth2Config(true, null, null, false, new OAuth2TokenProvider())
        : new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(), Set.of(
            new DefaultOAuth2TokenCallback("default", "alice", "JWT", List.of("gateway"), claims, tokenSeconds)));
    idp = new MockOAuth2Server(config, routes);
    idp.start();
    issuer = idp.issuerUrl("default").toString();
    assertThat(issuer).startsWith("http://localhost:");
  }

  private TestGateway gateway(String session, String more) throws Exception {
    return TestGateway.start("portal", "  plugins_dir: \"" + pluginsDir + "\"\n  data_dir: \"" + dir.resolve("data") + "\"\n"
        + "upstreams:\n  app: \"" + backend.url() + "\"\n  mcp: \"" + backend.url() + "\"\n  both: \"" + backend.url() + "\"\n"
        + "plugins:\n  sso-oauth:\n    issuers: [\"" + issuer + "\"]\n    client_id: gateway\n    client_secret: s3cret\n"
        + "    discovery_retry: 200ms\n"
        + "    session: { " + session + " }\n" + more
        + "    routes:\n      app: { mode: browser }\n      both: { mode: both }\n", dir);
  }

  private String url(TestGateway g, String path) {
    return "http://localhost:" + g.port() + path;
  }

  private HttpResponse<String> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> withSession(TestGateway g, String path, String cookie) throws Exception {
    return get(url(g, path), "Cookie", "portal_session=" + cookie, "Accept", "text/html");
  }

  @Test
  void aPersonLogsInLandsOnTheDeepLinkWithASmallCookieAndLogsOut() throws Exception {
    idp(true, 0, Map.of());
    gateway = gateway("", "");
    browser = new Browser();
    String deepLink = url(gateway, "/peer/app/reports/q3?region=eu&x=1");
    browser.open(deepLink);
    browser.waitForUrlStartingWith(issuer); // sent to the IdP's login page
    browser.logInAs("alice", null);
    browser.waitForUrl(deepLink);
    assertThat(browser.text("page")).isEqualTo("/reports/q3?region=eu&x=1");

    Cookie session = browser.cookie("portal_session");
    assertThat(session).isNotNull();
    assertThat(session.isHttpOnly()).isTrue();
    assertThat(session.getSameSite()).isEqualTo("Lax");
    assertThat(session.getPath()).isEqualTo("/");
    assertThat((session.getName() + "=" + session.getValue()).length()).isLessThan(1024);
    assertThat(session.getValue().length()).isLessThan(120); // an id and its signature, nothing else
    assertThat(browser.cookie(BrowserLogin.LOGIN_COOKIE)).isNull(); // the login's own cookie is gone

    // The gateway's cookie never reaches the service; the service's own cookies do.
    browser.driver.manage().addCookie(new Cookie("theme", "dark", "/"));
    browser.open(url(gateway, "/peer/app/settings"));
    assertThat(browser.text("page")).isEqualTo("/settings");
    assertThat(seenCookies.get()).isEqualTo("theme=dark");

    // Not a browser: an API client gets 401, not a redirect to a login page it cannot use.
    HttpResponse<String> api = get(url(gateway, "/peer/app/api/data"), "Accept", "application/json");
    assertThat(api.statusCode()).isEqualTo(401);
    assertThat(api.body()).contains("login-required");
    // The cookie works for any client that holds it, until logout.
    String value = session.getValue();
    assertThat(withSession(gateway, "/peer/app/x", value).statusCode()).isEqualTo(200);
    assertThat(withSession(gateway, "/peer/app/x", value.substring(0, value.length() - 2) + "AA").statusCode())
        .as("a cookie with a forged signature").isEqualTo(302);

    browser.open(url(gateway, "/oauth2/logout"));
    browser.waitForUrl(url(gateway, "/oauth2/signed-out")); // through the IdP's end_session endpoint
    assertThat(browser.text("signed-out")).contains("signed out");
    assertThat(browser.cookie("portal_session")).isNull();
    HttpResponse<String> after = withSession(gateway, "/peer/app/x", value);
    assertThat(after.statusCode()).as("the old cookie after logout").isEqualTo(302);
    assertThat(after.headers().firstValue("Location").orElseThrow()).startsWith(issuer);
    browser.open(url(gateway, "/peer/app/again"));
    browser.waitForUrlStartingWith(issuer);
    gateway.awaitMetrics("portal_gateway_sso_oauth_authentications_total{result=\"login_ok\",} 1.0",
        "portal_gateway_sso_oauth_authentications_total{result=\"logout\",} 1.0");
  }

  @Test
  void openRedirectsForgedAndReplayedStatesAndAWrongNonceAreRefused() throws Exception {
    idp(true, 0, Map.of());
    gateway = gateway("", "");
    for (String evil : List.of("https://evil.example/", "//evil.example/x", "/\\evil.example", "/peer/../admin",
        "/peer/app/%2e%2e/x", "javascript:alert(1)", "/elsewhere")) {
      HttpResponse<String> r = get(url(gateway, "/oauth2/login?return_to=" + URLEncoder.encode(evil, StandardCharsets.UTF_8)));
      assertThat(r.statusCode()).as(evil).isEqualTo(400);
      assertThat(r.headers().firstValue("Location")).as(evil).isEmpty();
    }
    HttpResponse<String> fine = get(url(gateway, "/oauth2/login?return_to=%2Fpeer%2Fapp%2Fdash"));
    assertThat(fine.statusCode()).isEqualTo(302);
    assertThat(fine.headers().firstValue("Location")).hasValue(url(gateway, "/peer/app/dash"));

    assertThat(get(url(gateway, "/oauth2/callback?code=abc&state=forged")).body()).contains("login-state-unknown");

    // A real login, driven without a browser so that its callback can be sent twice.
    Login first = beginLogin();
    String callback = first.authorizeAs("alice", null);
    HttpResponse<String> done = get(callback, "Cookie", first.loginCookie);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(302);
    assertThat(done.headers().firstValue("Location")).hasValue(url(gateway, "/peer/app/start"));
    HttpResponse<String> replay = get(callback, "Cookie", first.loginCookie);
    assertThat(replay.statusCode()).as("the same callback again").isEqualTo(400);
    assertThat(replay.body()).contains("login-state-unknown");

    // Someone else's callback (a login started in another browser) does not log this one in.
    Login foreign = beginLogin();
    HttpResponse<String> stolen = get(foreign.authorizeAs("mallory", null), "Cookie", first.loginCookie);
    assertThat(stolen.statusCode()).isEqualTo(400);
    assertThat(stolen.body()).contains("login-state-foreign");

    // A code issued for another nonce (an injected authorization response) is refused after the exchange.
    Login injected = beginLogin();
    injected.authorize = injected.authorize.replaceAll("nonce=[^&]+", "nonce=attacker-nonce");
    HttpResponse<String> wrongNonce = get(injected.authorizeAs("alice", null), "Cookie", injected.loginCookie);
    assertThat(wrongNonce.statusCode()).isEqualTo(401);
    assertThat(wrongNonce.body()).contains("not issued for this login");
    assertThat(wrongNonce.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("portal_session="));
    gateway.awaitMetrics("portal_gateway_sso_oauth_authentications_total{result=\"login_wrong_nonce\",} 1.0",
        "portal_gateway_sso_oauth_authentications_total{result=\"login_foreign_state\",} 1.0");
  }

  /** A login begun by a request for /peer/app/start, as a browser sends it. */
  private final class Login {
    String authorize;
    String loginCookie;

    /** Posts the IdP's login form; returns the callback URL the IdP sends the browser to. */
    String authorizeAs(String user, String claims) throws Exception {
      String form = "username=" + URLEncoder.encode(user, StandardCharsets.UTF_8)
          + (claims == null ? "" : "&claims=" + URLEncoder.encode(claims, StandardCharsets.UTF_8));
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(authorize))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(302);
      return r.headers().firstValue("Location").orElseThrow();
    }
  }

  private Login beginLogin() throws Exception {
    HttpResponse<String> r = get(url(gateway, "/peer/app/start"), "Accept", "text/html");
    assertThat(r.statusCode()).isEqualTo(302);
    Login l = new Login();
    l.authorize = r.headers().firstValue("Location").orElseThrow();
    assertThat(l.authorize).startsWith(issuer).contains("code_challenge_method=S256").contains("state=").contains("nonce=");
    String setCookie = r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(BrowserLogin.LOGIN_COOKIE + "="))
        .findFirst().orElseThrow();
    assertThat(setCookie).contains("HttpOnly").contains("SameSite=Lax").contains("Path=/oauth2/callback");
    l.loginCookie = setCookie.substring(0, setCookie.indexOf(';'));
    Map<String, String> q = query(l.authorize);
    assertThat(q.get("redirect_uri")).isEqualTo(url(gateway, "/oauth2/callback"));
    return l;
  }

  private static Map<String, String> query(String url) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : URI.create(url).getRawQuery().split("&")) {
      int eq = pair.indexOf('=');
      out.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void theSessionOutlivesItsAccessTokenByRefreshingButNotItsAbsoluteLimit() throws Exception {
    idp(false, 3, Map.of("email", "alice@example.com"));
    gateway = gateway("absolute_timeout: 9s, refresh_before: 1s", "");
    browser = new Browser();
    String page = url(gateway, "/peer/app/home");
    // Taken before the login, so the session (made at the callback) starts after it: the absolute
    // limit below is then at least 9 s from here, however long the login itself took.
    long loggedIn = System.nanoTime();
    browser.open(page);
    browser.waitForUrl(page); // logged in without a form: the IdP's callback answers at once
    String cookie = browser.cookie("portal_session").getValue();
    // Requests go on past the 3 s access token's life: the gateway refreshes it, the session holds.
    while (!gateway.metrics().contains("portal_gateway_sso_oauth_authentications_total{result=\"session_refreshed\",} 2.0")) {
      assertThat(withSession(gateway, "/peer/app/home", cookie).statusCode()).isEqualTo(200);
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - loggedIn)).as("two refreshes by now").isLessThan(8);
      Thread.sleep(200); // a request now and then, as a person's open page would make
    }
    assertThat(withSession(gateway, "/peer/app/home", cookie).statusCode()).isEqualTo(200);
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - loggedIn)).isLessThan(9);
    // Refreshing never moves the absolute limit: 9 s after login the session is over.
    HttpResponse<String> r;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while ((r = withSession(gateway, "/peer/app/home", cookie)).statusCode() == 200) {
      assertThat(System.nanoTime()).as("the session should end 9 s after login").isLessThan(deadline);
      Thread.sleep(200); // a request now and then, as a person's page would make: the idle limit never hits
    }
    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loggedIn)).isGreaterThanOrEqualTo(8_900);
    gateway.awaitMetrics("portal_gateway_sso_oauth_authentications_total{result=\"session_expired\",} 1.0");
  }

  @Test
  void anIdleSessionEnds() throws Exception {
    idp(false, 3600, Map.of());
    gateway = gateway("idle_timeout: 2s", "");
    browser = new Browser();
    String page = url(gateway, "/peer/app/home");
    browser.open(page);
    browser.waitForUrl(page);
    String cookie = browser.cookie("portal_session").getValue();
    assertThat(withSession(gateway, "/peer/app/home", cookie).statusCode()).isEqualTo(200);
    // Idleness is what is tested: no request at all for longer than idle_timeout.
    Thread.sleep(2_500);
    HttpResponse<String> r = withSession(gateway, "/peer/app/home", cookie);
    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(r.headers().firstValue("Location").orElseThrow()).startsWith(issuer);
    gateway.awaitMetrics("portal_gateway_sso_oauth_authentications_total{result=\"session_idle\",} 1.0");
  }

  @Test
  void twoGatewaysSharingRedisKeepAPersonLoggedInAcrossBoth() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.startOnFreePort()) {
      idp(false, 3600, Map.of("groups", List.of("ai-team")));
      String session = "store: redis, redis_url: \"" + redis.url() + "\", signing_key: \"" + KEY + "\"";
      String rules = "    allowed_groups: { app: [\"ai-team\"] }\n";
      gateway = gateway(session, rules);
      second = TestGateway.start("portal", "  plugins_dir: \"" + pluginsDir + "\"\n  data_dir: \""
          + dir.resolve("data-2") + "\"\nupstreams:\n  app: \"" + backend.url() + "\"\n"
          + "plugins:\n  sso-oauth:\n    issuers: [\"" + issuer + "\"]\n    client_id: gateway\n    client_secret: s3cret\n"
          + "    session: { " + session + " }\n" + rules + "    routes:\n      app: { mode: browser }\n");
      browser = new Browser();
      String onFirst = url(gateway, "/peer/app/one");
      browser.open(onFirst);
      browser.waitForUrl(onFirst);
      // The browser sends the same localhost cookie to the other gateway's port: no second login.
      String onSecond = url(second, "/peer/app/two");
      browser.open(onSecond);
      browser.waitForUrl(onSecond);
      assertThat(browser.text("page")).isEqualTo("/two");
      second.awaitMetrics("portal_gateway_sso_oauth_authentications_total{result=\"session_ok\",} 1.0");
      assertThat(second.metrics()).doesNotContain("result=\"login_started\"");
      // Logged out on one, logged out on both: the first gateway sends the browser to log in again.
      String cookie = browser.cookie("portal_session").getValue();
      browser.open(url(second, "/oauth2/logout"));
      browser.waitForUrl(url(second, "/oauth2/signed-out"));
      HttpResponse<String> after = withSession(gateway, "/peer/app/one", cookie);
      assertThat(after.statusCode()).isEqualTo(302);
      assertThat(after.headers().firstValue("Location").orElseThrow()).startsWith(issuer);
    }
  }

  @Test
  void groupsDecideWhoMayEnterAndBothModeTakesTokensToo() throws Exception {
    idp(true, 0, Map.of());
    gateway = gateway("", "    allowed_groups: { app: [\"ai-team\"] }\n");
    browser = new Browser();
    String page = url(gateway, "/peer/app/team");
    browser.open(page);
    browser.logInAs("bob", "{\"groups\": [\"sales\"]}");
    browser.waitForUrl(page);
    assertThat(browser.text("problem")).contains("members of ai-team only");
    browser.driver.manage().deleteAllCookies();
    browser.open(page);
    browser.logInAs("carol", "{\"groups\": [\"ai-team\"]}");
    browser.waitForUrl(page);
    assertThat(browser.text("page")).isEqualTo("/team");

    // mode: both. A bearer token works without a session; an API client without one gets the bearer challenge.
    String token = idp.issueToken("default", "svc", url(gateway, "/peer/both"), Map.of(), 600).serialize();
    assertThat(get(url(gateway, "/peer/both/x"), "Authorization", "Bearer " + token).statusCode()).isEqualTo(200);
    HttpResponse<String> bare = get(url(gateway, "/peer/both/x"), "Accept", "application/json");
    assertThat(bare.statusCode()).isEqualTo(401);
    assertThat(bare.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("resource_metadata=");
    // ... and a browser there is sent to log in; with a session from the app route's login it is let in.
    browser.open(url(gateway, "/peer/both/page"));
    browser.waitForUrl(url(gateway, "/peer/both/page"));
    // Bearer routes are unchanged by browser login elsewhere.
    assertThat(get(url(gateway, "/peer/mcp/x"), "Accept", "text/html").statusCode()).isEqualTo(401);
  }

  @Test
  void groupsThatOnlyTheUserinfoEndpointKnowsAreRead() throws Exception {
    // Like IdPs that keep groups out of the ID token (too many, or only on request): userinfo has them.
    idp(false, 3600, Map.of("email", "alice@example.com"), OAuth2HttpRouterKt.get("/default/userinfo",
        request -> OAuth2HttpResponseKt.json(Map.of("sub", "alice", "groups", List.of("from-userinfo")))));
    gateway = gateway("", "    allowed_groups: { app: [\"from-userinfo\"] }\n");
    String cookie = loginWithoutBrowser("/peer/app/x");
    assertThat(withSession(gateway, "/peer/app/x", cookie).statusCode()).isEqualTo(200);
    gateway.close();
    gateway = gateway("", "    allowed_groups: { app: [\"from-userinfo\"] }\n    userinfo: never\n");
    cookie = loginWithoutBrowser("/peer/app/x");
    assertThat(withSession(gateway, "/peer/app/x", cookie).statusCode()).as("groups from the ID token alone").isEqualTo(403);
  }

  /** Follows a login through an IdP that logs in at once; returns the session cookie's value. */
  private String loginWithoutBrowser(String path) throws Exception {
    HttpResponse<String> start = get(url(gateway, path), "Accept", "text/html");
    assertThat(start.statusCode()).isEqualTo(302);
    String loginCookie = start.headers().allValues("Set-Cookie").get(0);
    loginCookie = loginCookie.substring(0, loginCookie.indexOf(';'));
    HttpResponse<String> authorized = get(start.headers().firstValue("Location").orElseThrow());
    assertThat(authorized.statusCode()).isEqualTo(302);
    HttpResponse<String> back = get(authorized.headers().firstValue("Location").orElseThrow(), "Cookie", loginCookie);
    assertThat(back.statusCode()).as(back.body()).isEqualTo(302);
    assertThat(back.headers().firstValue("Location")).hasValue(url(gateway, path));
    String session = back.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("portal_session="))
        .findFirst().orElseThrow();
    return session.substring("portal_session=".length(), session.indexOf(';'));
  }

  @Test
  void eachRouteLogsInAtItsOwnIssuerWithItsOwnCookie() throws Exception {
    idp(false, 3600, Map.of());
    String other = idp.issuerUrl("other").toString(); // another issuer, with keys of its own
    gateway = TestGateway.start("portal", "  plugins_dir: \"" + pluginsDir + "\"\n  data_dir: \"" + dir.resolve("data")
        + "\"\nupstreams:\n  app: \"" + backend.url() + "\"\n  partner: \"" + backend.url() + "\"\n"
        + "plugins:\n  sso-oauth:\n    issuers: [\"" + issuer + "\", \"" + other + "\"]\n    client_id: gateway\n"
        + "    routes:\n      app: { mode: browser }\n"
        + "      partner: { mode: browser, login_issuer: \"" + other + "\", session: { cookie_name: partner_session } }\n");
    String app = loginWithoutBrowser("/peer/app/x");
    HttpResponse<String> start = get(url(gateway, "/peer/partner/y"), "Accept", "text/html");
    assertThat(start.headers().firstValue("Location").orElseThrow()).startsWith(other + "/authorize");
    // The app's session is not a session at the partner's issuer.
    HttpResponse<String> crossed = get(url(gateway, "/peer/partner/y"), "Accept", "text/html", "Cookie", "partner_session=" + app);
    assertThat(crossed.statusCode()).isEqualTo(302);
    assertThat(crossed.headers().firstValue("Location").orElseThrow()).startsWith(other + "/authorize");
    String loginCookie = start.headers().allValues("Set-Cookie").get(0);
    HttpResponse<String> code = get(start.headers().firstValue("Location").orElseThrow());
    HttpResponse<String> back = get(code.headers().firstValue("Location").orElseThrow(), "Cookie",
        loginCookie.substring(0, loginCookie.indexOf(';')));
    assertThat(back.statusCode()).as(back.body()).isEqualTo(302);
    String partner = back.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("partner_session="))
        .findFirst().orElseThrow();
    HttpResponse<String> both = get(url(gateway, "/peer/partner/y"), "Accept", "text/html", "Cookie",
        "portal_session=" + app + "; " + partner.substring(0, partner.indexOf(';')));
    assertThat(both.statusCode()).isEqualTo(200);
    assertThat(withSession(gateway, "/peer/app/x", app).statusCode()).isEqualTo(200);
  }
}
