package dev.portalgateway.api;

/**
 * A plugin: a named factory of {@link Filter}s, found with {@link java.util.ServiceLoader} in a
 * jar of the gateway's {@code plugins/} directory.
 *
 * <p>List the implementation in {@code META-INF/services/dev.portalgateway.api.GatewayPlugin}
 * and give it a public no-argument constructor. The gateway calls {@link #create} once per
 * configuration generation: when it starts, and again after each accepted configuration reload
 * (closing the previous filter once the requests that use it have finished).
 *
 * <p>With per-route configuration ({@code routes:} under the plugin's key), {@code create} is
 * called once for each distinct configuration a route ends up with, and each request goes to the
 * filter made for its route; {@link PluginConfig#route()} says which one a call is for.
 *
 * <p>The plugin object itself lives as long as the gateway process: the gateway instantiates it
 * once and calls {@code create} on the same instance for every generation. State that must
 * survive a reload (rate-limit counters, a cache, sessions, an open queue in the data directory,
 * a delivery loop that must never run twice) is lasting state: get it with
 * {@link PluginContext#lasting(Class, LastingFactory)}, which creates it once, hands the same
 * object to every later generation and closes it when the gateway stops. For a moment after a
 * reload the old and the new filter run side by side, so such state must be safe to share.
 *
 * <p>Declare the API version the plugin is built against, so that a gateway too old for it
 * refuses it at load with a clear message instead of failing later:
 * <pre>{@code
 * public String apiVersion() { return GatewayApi.VERSION; }
 * }</pre>
 */
public interface GatewayPlugin {

  /**
   * The name that enables this plugin under {@code plugins:} in the YAML configuration, such as
   * {@code "auth-apikey"}. Lower-case letters, digits and dashes; unique across all plugin jars.
   *
   * @return the plugin's name
   */
  String name();

  /**
   * Where in the chain this plugin's filter runs. Order comes from the phase, never from the YAML
   * order, so that (for example) a cache can never answer before authentication has run. Plugins
   * of the same phase run in order of name.
   *
   * @return the phase of this plugin's filter
   */
  Phase phase();

  /**
   * Creates the filter for one configuration generation.
   *
   * @param config this plugin's subtree of the YAML configuration
   * @param context what the plugin may use: logger, metrics, clock, scheduler, data directory
   * @return a filter; it must be safe for concurrent use by many requests
   * @throws InvalidConfigException when the configuration is wrong; the gateway refuses to start
   *     (or keeps the previous configuration on reload) and shows the message
   */
  Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException;

  /**
   * The version of {@code gateway-api} this plugin was built against: return
   * {@link GatewayApi#VERSION}, a constant the compiler copies into the plugin. The gateway refuses
   * to load a plugin whose version it cannot serve (see {@link GatewayApi}). The default,
   * {@code "0.1"}, is what plugins built before this method existed declare.
   *
   * @return the API version, {@code MAJOR.MINOR}
   */
  default String apiVersion() {
    return "0.1";
  }

  /**
   * Commands this plugin adds to the gateway's command line, such as {@code add-key}.
   *
   * @return the commands; none by default
   */
  default java.util.List<PluginCommand> commands() {
    return java.util.List.of();
  }
}
