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
        "Bearer-token checks by result: ok, or why the token was refused.", "result");
    ResourceMetadata metadata = new ResourceMetadata(settings, context.routePrefix());
    context.publicEndpoint(ResourceMetadata.PATH, metadata);
    return new BearerFilter(settings, issuers, context.clock(), metadata, outcomes);
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
