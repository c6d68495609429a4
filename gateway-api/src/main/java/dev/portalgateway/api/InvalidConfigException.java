package dev.portalgateway.api;

/**
 * A plugin configuration is wrong. The message names the key path (such as
 * {@code plugins.auth-apikey.keys_file}) and says how to fix it.
 */
public class InvalidConfigException extends Exception {
  /** @param message what is wrong, with the key path and the fix */
  public InvalidConfigException(String message) {
    super(message);
  }

  /**
   * @param message what is wrong, with the key path and the fix
   * @param cause the underlying failure
   */
  public InvalidConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
