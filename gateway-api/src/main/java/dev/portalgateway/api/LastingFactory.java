package dev.portalgateway.api;

/**
 * Creates a plugin's lasting state: see {@link PluginContext#lasting(Class, LastingFactory)}.
 *
 * @param <T> the type of the state
 */
@FunctionalInterface
public interface LastingFactory<T> {

  /**
   * @param context the plugin's lifetime context: its {@link PluginContext#scheduler() scheduler}
   *     runs until the gateway stops, not only for one configuration generation; it adds no
   *     endpoints
   * @return the state; when it is {@link AutoCloseable} the gateway closes it when it stops
   * @throws Exception when the state cannot be created; the configuration that asked for it is
   *     refused with the message
   */
  T create(PluginContext context) throws Exception;
}
