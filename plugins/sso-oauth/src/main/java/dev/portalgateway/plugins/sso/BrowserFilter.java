package dev.portalgateway.plugins.sso;

import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import java.io.IOException;
import java.util.List;

/**
 * A route with browser login ({@code mode: browser} or {@code both}): a valid session cookie lets
 * the request in as the person who logged in; a browser without one is sent to log in and comes
 * back to the page it asked for; an API client gets {@code 401} (with {@code both}, the bearer
 * challenge, and a bearer token is checked as on a bearer route).
 */
final class BrowserFilter implements Authenticator {
  private final SsoSettings settings;
  private final BrowserLogin login;
  private final BearerFilter bearer;
  private final String routePrefix;
  private final PluginMetrics.Counter outcomes;
  private final LoginEndpoints endpoints;

  BrowserFilter(SsoSettings settings, BrowserLogin login, BearerFilter bearer, String routePrefix,
      PluginMetrics.Counter outcomes, LoginEndpoints endpoints) {
    this.endpoints = endpoints;
    this.settings = settings;
    this.login = login;
    this.bearer = bearer;
    this.routePrefix = routePrefix;
    this.outcomes = outcomes;
  }

  @Override
  public boolean recognizes(Request request) {
    return BrowserLogin.cookieValue(request, login.cookieName()) != null
        || (settings.mode().equals(SsoSettings.BOTH) && bearer.recognizes(request));
  }

  @Override
  public Response handle(Request request, Chain chain) throws IOException {
    if (settings.mode().equals(SsoSettings.BOTH) && bearer.recognizes(request)) {
      return bearer.handle(request, chain);
    }
    BrowserLogin.Found found;
    try {
      found = login.session(request);
    } catch (IOException e) {
      outcomes.inc("session_store_unavailable");
      return Problem.of(503, "session-store-unavailable", "Service Unavailable",
          "The gateway cannot read its sessions right now.", "Try again shortly.")
          .toResponse(Headers.of("Retry-After", "1"));
    }
    if (found.session() == null) {
      outcomes.inc(found.reason());
      if (isNavigation(request)) {
        String returnTo = LoginEndpoints.safeReturnTo(request.path()
            + (request.rawQuery() == null ? "" : "?" + request.rawQuery()), routePrefix);
        return login.start(request, returnTo == null ? routePrefix + request.route() + "/" : returnTo);
      }
      if (settings.mode().equals(SsoSettings.BOTH)) {
        return bearer.handle(request, chain); // no token: the bearer 401 with its discovery challenge
      }
      return Problem.of(401, "login-required", "Unauthorized",
          "This route is for people who log in with a browser.",
          "Open " + request.baseUrl() + BrowserLogin.BASE + "/login?return_to=" + routePrefix + request.route()
              + "/ in a browser.").toResponse();
    }
    List<String> allowed = settings.allowedGroupsFor(request.route());
    if (!allowed.isEmpty() && allowed.stream().noneMatch(found.session().groups()::contains)) {
      outcomes.inc("group_not_allowed");
      return BrowserLogin.page(request, 403, "group-not-allowed",
          "This route is open to members of " + String.join(", ", allowed) + " only.", null);
    }
    outcomes.inc("session_ok");
    Headers headers = BrowserLogin.withoutCookies(request.headers(), login.cookieName(), BrowserLogin.LOGIN_COOKIE);
    if (settings.forwardAccessToken()) {
      headers = headers.with("Authorization", "Bearer " + found.session().accessToken());
    } else if (!settings.forwardToken()) {
      headers = headers.without("Authorization");
    }
    return chain.proceed(request.toBuilder().headers(headers)
        .attribute(StandardAttributes.PRINCIPAL, login.principal(found.session())).build());
  }

  /** A browser loading a page: GET or HEAD that accepts HTML (or says it navigates). */
  static boolean isNavigation(Request request) {
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return false;
    }
    String mode = request.headers().first("Sec-Fetch-Mode");
    if (mode != null) {
      return mode.equals("navigate");
    }
    String accept = request.headers().first("Accept");
    return accept != null && accept.contains("text/html");
  }

  @Override
  public void close() {
    endpoints.remove(login);
    login.close();
  }
}
