package dev.portalgateway.host.config;

/**
 * The configuration is wrong. The message names the key path and the fix; the CLI prints it and
 * exits with status 2.
 */
public final class ConfigException extends Exception {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
