package dev.portalgateway.api;

import java.util.Map;

/**
 * A plugin's subtree of the YAML configuration, such as everything under
 * {@code plugins.auth-apikey}.
 *
 * <p>Bind it to a record: YAML keys in {@code snake_case} map to record components in
 * {@code camelCase} ({@code keys_file} to {@code keysFile}); durations accept {@code 500ms},
 * {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d}; sizes in bytes accept {@code 64KiB},
 * {@code 10MiB}. Unknown keys are errors, so a typo never silently disables a setting. Binding
 * uses the gateway's Jackson, which it shares with plugins (the platform layer), so Jackson
 * annotations on the record, such as {@code @JsonProperty} or {@code @JsonAlias}, apply.
 *
 * <pre>{@code
 * record Settings(String keysFile, Duration reloadInterval, List<String> publicLeases) {}
 * Settings s = config.bind(Settings.class);
 * }</pre>
 */
public interface PluginConfig {

  /**
   * @return the key path of this subtree, such as {@code "plugins.auth-apikey"}, for messages
   */
  String path();

  /**
   * Maps the subtree onto {@code type}, typically a record. Missing keys leave components
   * {@code null} (or zero / false for primitives): apply defaults in the record's constructor.
   *
   * @param type the class to bind to
   * @param <T> the type to bind to
   * @return the bound value
   * @throws InvalidConfigException naming the key path of an unknown key or a bad value
   */
  <T> T bind(Class<T> type) throws InvalidConfigException;

  /**
   * The route (a name or a {@code *} pattern under the plugin's {@code routes:}) this
   * configuration was made for, or {@code null} for the plugin's default configuration. A route's
   * configuration is the default one with the route's keys laid over it; the host keys
   * {@code enabled} and {@code routes} are never part of it.
   *
   * @return the route key, or {@code null}
   */
  default String route() {
    return null;
  }

  /** @return the subtree as plain maps, lists, strings, numbers and booleans */
  Map<String, Object> asMap();
}
