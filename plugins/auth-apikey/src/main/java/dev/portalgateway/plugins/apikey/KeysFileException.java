package dev.portalgateway.plugins.apikey;

/** The keys file cannot be read or written, or is not a valid keys file. The message names the file and the problem. */
final class KeysFileException extends Exception {
  KeysFileException(String message, Throwable cause) {
    super(message, cause);
  }
}
