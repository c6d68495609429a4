package dev.portalgateway.host.config;

import java.net.InetSocketAddress;

/** Parses listener addresses: {@code host:port}, {@code :port} (all interfaces), {@code [::1]:port}. */
public final class ListenAddress {
  private ListenAddress() {}

  /**
   * @param text the address
   * @return the socket address; unresolved names are resolved here
   * @throws IllegalArgumentException when it is not {@code host:port}
   */
  public static InetSocketAddress parse(String text) {
    return parse(text, true);
  }

  /**
   * @param text the address
   * @param resolve whether to look a host name up; when not, the same checks, and an unresolved address
   * @return the socket address
   * @throws IllegalArgumentException when it is not {@code host:port}
   */
  static InetSocketAddress parse(String text, boolean resolve) {
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("'" + text + "' is not host:port (for example 0.0.0.0:8080 or :8080)");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has no valid port after ':'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "': port " + port + " is out of range 0-65535");
    }
    if (host.isEmpty() || host.equals("*")) {
      return new InetSocketAddress(port);
    }
    return resolve ? new InetSocketAddress(host, port) : InetSocketAddress.createUnresolved(host, port);
  }
}
