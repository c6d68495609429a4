package dev.portalgateway.plugins.sso;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.PublicEndpoint;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The browser-login endpoints under {@code /oauth2}, for every login configuration of the routes
 * (the plugin's lasting state: it outlives reloads, and each configuration's login joins it while
 * its filter serves):
 * <ul>
 *   <li>{@code /oauth2/callback}: where the IdP sends the browser back; finds the login by its
 *       state, in the session store, once;</li>
 *   <li>{@code /oauth2/login?return_to=/peer/app/...}: a link that sends the browser to a page of a
 *       route, which logs it in if needed; only paths on this gateway are accepted;</li>
 *   <li>{@code /oauth2/logout}: ends the session here and at the IdP;</li>
 *   <li>{@code /oauth2/signed-out}: where the IdP sends the browser after logout.</li>
 * </ul>
 */
final class LoginEndpoints implements PublicEndpoint {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Per issuer and client, the logins of the configurations serving, newest last. */
  private final Map<String, java.util.List<BrowserLogin>> logins = new ConcurrentHashMap<>();
  private final String routePrefix;

  LoginEndpoints(String routePrefix) {
    this.routePrefix = routePrefix;
  }

  void add(BrowserLogin login) {
    logins.computeIfAbsent(login.key(), k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(login);
  }

  /** Called when a login's filter closes: after a reload, or a reload that was refused. */
  void remove(BrowserLogin login) {
    java.util.List<BrowserLogin> list = logins.get(login.key());
    if (list != null) {
      list.remove(login);
    }
  }

  private BrowserLogin newest(String key) {
    java.util.List<BrowserLogin> list = logins.get(key);
    return list == null || list.isEmpty() ? null : list.get(list.size() - 1);
  }

  private java.util.List<BrowserLogin> serving() {
    java.util.List<BrowserLogin> out = new java.util.ArrayList<>();
    for (String key : logins.keySet()) {
      BrowserLogin l = newest(key);
      if (l != null) {
        out.add(l);
      }
    }
    return out;
  }

  @Override
  public Response handle(Request request) throws IOException {
    String action = request.upstreamPath();
    return switch (action) {
      case "/callback" -> callback(request);
      case "/login" -> login(request);
      case "/logout" -> logout(request);
      case "/signed-out" -> Response.of(200, Headers.of("Content-Type", "text/html; charset=utf-8",
          "Cache-Control", "no-store"), Body.of("<!doctype html><meta charset=utf-8><title>Signed out</title>"
          + "<h1 id=signed-out>You are signed out.</h1>\n"));
      default -> BrowserLogin.page(request, 404, "not-found", "No such login page.", null);
    };
  }

  private Response callback(Request request) throws IOException {
    String error = request.queryParameter("error");
    if (error != null) {
      return BrowserLogin.page(request, 401, "login-failed", "The identity provider said: " + error, null);
    }
    String state = request.queryParameter("state");
    if (state == null || state.isEmpty() || state.length() > 200) {
      return BrowserLogin.page(request, 400, "login-state-unknown", "This login link has no valid state.",
          "Start again from the page you wanted.");
    }
    // Taken, not read: a state works once, so a replayed callback finds nothing.
    String json = null;
    for (SessionStore store : new java.util.LinkedHashSet<>(serving().stream().map(BrowserLogin::store).toList())) {
      json = store.take("login:" + SessionCookies.storeKey(state));
      if (json != null) {
        break;
      }
    }
    if (json == null) {
      return BrowserLogin.page(request, 400, "login-state-unknown",
          "This login is unknown, expired, or was already used.", "Start again from the page you wanted.");
    }
    PendingLogin pending = JSON.readValue(json, PendingLogin.class);
    BrowserLogin login = newest(pending.login());
    if (login == null) {
      return BrowserLogin.page(request, 400, "login-state-unknown", "This login belongs to a configuration no longer served.",
          "Start again from the page you wanted.");
    }
    return login.finish(request, pending);
  }

  private Response login(Request request) {
    String to = request.queryParameter("return_to");
    String safe = safeReturnTo(to, routePrefix);
    if (safe == null) {
      return BrowserLogin.page(request, 400, "bad-return-to",
          "return_to must be a path on this gateway under " + routePrefix + ", such as " + routePrefix + "app/.", null);
    }
    // The route's filter logs the browser in if it has no session, then shows the page.
    return Response.of(302, Headers.of("Location", request.baseUrl() + safe, "Cache-Control", "no-store"), Body.empty());
  }

  private Response logout(Request request) throws IOException {
    java.util.List<BrowserLogin> serving = serving();
    for (BrowserLogin login : serving) {
      BrowserLogin.Found found = login.session(request);
      if (found.session() != null) {
        return login.logout(request, found);
      }
    }
    BrowserLogin any = serving.isEmpty() ? null : serving.get(0);
    if (any == null) {
      return Response.of(302, Headers.of("Location", request.baseUrl() + BrowserLogin.BASE + "/signed-out"), Body.empty());
    }
    return any.logout(request, new BrowserLogin.Found(null, null, "no_session"));
  }

  /**
   * @return {@code value} when it is a path on this gateway under the routes' prefix (no scheme, no
   *     host, no {@code //} or backslash that a browser would read as another host), else null
   */
  static String safeReturnTo(String value, String routePrefix) {
    if (value == null || value.isEmpty() || value.length() > 2048 || !value.startsWith(routePrefix)) {
      return null;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x21 || c == 0x7f || c == '\\') {
        return null;
      }
    }
    if (value.startsWith("//") || value.contains("/../") || value.endsWith("/..") || value.contains("%2e%2e")
        || value.contains("%2E%2E") || value.contains("%5c") || value.contains("%5C")) {
      return null;
    }
    return value;
  }
}
