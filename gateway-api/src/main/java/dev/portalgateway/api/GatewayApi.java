package dev.portalgateway.api;

/**
 * The version of this plugin API. A plugin declares the version it was built against by returning
 * {@link #VERSION} from {@link GatewayPlugin#apiVersion()}: the constant is compiled into the
 * plugin, so it keeps saying which API the plugin was built with after the gateway moves on.
 *
 * <p>Versions are {@code MAJOR.MINOR}. A minor version only adds to the API, so a gateway runs
 * plugins built against its own minor version or an older one of the same major version, and
 * refuses, at load, a plugin built against a newer minor version (it may call what this gateway
 * lacks) or another major version.
 */
public final class GatewayApi {
  /**
   * This API's version. 0.1: filters, admin endpoints, commands. 0.2: completion reports,
   * authenticators, public endpoints, lasting state, per-route configuration, the public URL.
   */
  public static final String VERSION = "0.2";

  private GatewayApi() {}
}
