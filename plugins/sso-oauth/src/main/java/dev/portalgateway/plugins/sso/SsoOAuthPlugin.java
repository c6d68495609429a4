package dev.portalgateway.plugins.sso;

import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code sso-oauth}: OAuth 2.1 bearer tokens (JWTs from trusted OIDC issuers) with MCP
 * authorization discovery. See docs/plugins/sso-oauth.md.
 */
public final class SsoOAuthPlugin implements GatewayPlugin {
  /** The name that enables the plugin. */
  public static final String NAME = "sso-oauth";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Phase phase() {
    return Phase.AUTHENTICATE;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION;
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    SsoSettings settings = SsoSettings.from(config);
    List<Issuer> issuers = new ArrayList<>();
    for (String url : settings.issuers()) {
      Issuer issuer = new Issuer(url, settings);
      issuers.add(issuer);
      // Discovery off the start path: an IdP that is down must not keep the gateway from starting.
      context.scheduler().execute(() -> discover(issuer, settings, context));
    }
    PluginMetrics.Counter outcomes = context.metrics().counter("authentications_total",
        "Bearer-token and browser-session checks and logins by result: ok, session_ok, login_ok, or why not.", "result");
    ResourceMetadata metadata = new ResourceMetadata(settings, context.routePrefix());
    // Every configuration adds the same public endpoints; the gateway serves the first one's. The
    // login endpoints are lasting, so that they know the logins of every route configuration.
    context.publicEndpoint(ResourceMetadata.PATH, metadata);
    LoginEndpoints endpoints = context.lasting(LoginEndpoints.class, lifetime -> new LoginEndpoints(context.routePrefix()));
    context.publicEndpoint(BrowserLogin.BASE, endpoints);
    SessionStores stores = context.lasting(SessionStores.class, SessionStores::new);
    BearerFilter bearer = new BearerFilter(settings, issuers, context.clock(), metadata, outcomes);
    if (!settings.browserLogin()) {
      return bearer;
    }
    Issuer loginIssuer = issuers.stream().filter(i -> i.url().equals(settings.loginIssuer())).findFirst().orElseThrow();
    SessionCookies cookies;
    SessionStore store;
    try {
      cookies = SessionCookies.load(settings.session(), context.dataDirectory());
      store = stores.forSettings(settings.session());
    } catch (IOException e) {
      throw new InvalidConfigException(config.path() + ".session: " + e.getMessage());
    }
    BrowserLogin login = new BrowserLogin(settings, loginIssuer, store, cookies, context.clock(), outcomes, context);
    endpoints.add(login);
    return new BrowserFilter(settings, login, bearer, context.routePrefix(), outcomes, endpoints);
  }

  private static void discover(Issuer issuer, SsoSettings settings, PluginContext context) {
    try {
      issuer.discover();
      context.event(Level.INFO, "issuer discovered", Map.of("issuer", issuer.url(), "jwks_uri", issuer.ready().jwksUri()));
    } catch (IOException | RuntimeException e) {
      context.event(Level.WARNING, "issuer not reachable yet; its tokens get 503 until it is",
          Map.of("issuer", issuer.url(), "error", String.valueOf(e.getMessage()),
              "retry_in", settings.discoveryRetry().toString()));
      try {
        context.scheduler().schedule(() -> discover(issuer, settings, context),
            settings.discoveryRetry().toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        // the plugin was closed (a reload or shutdown): a newer instance does its own discovery
      }
    }
  }
}
