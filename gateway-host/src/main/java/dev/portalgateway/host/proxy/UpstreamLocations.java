package dev.portalgateway.host.proxy;

import java.util.Locale;

/**
 * Maps the upstream's own URLs in {@code Location} and {@code Set-Cookie} back into the gateway's
 * {@code /peer/{name}/} space, as {@code proxy_redirect} and {@code proxy_cookie_path} do in nginx.
 * Without it, an upstream's {@code Location: /login} sends the browser to the gateway's root.
 */
final class UpstreamLocations {
  private final String prefix;
  private final String basePath;
  private final String origin;

  /**
   * @param routePath where the route is mounted, such as {@code /peer/docs}
   * @param basePath the upstream URL's path without a trailing slash, or empty
   * @param origin the upstream's {@code scheme://host[:port]} in lower case, or {@code null} when unknown
   */
  UpstreamLocations(String routePath, String basePath, String origin) {
    this.prefix = routePath;
    this.basePath = basePath;
    this.origin = origin;
  }

  /** @return the {@code Location} as the client must follow it, or the value unchanged when it points elsewhere */
  String location(String location) {
    String path = location;
    if (origin != null && location.toLowerCase(Locale.ROOT).startsWith(origin)) {
      path = location.substring(origin.length());
      if (path.isEmpty()) {
        path = "/";
      }
    }
    if (!path.startsWith("/") || path.startsWith("//")) {
      return location; // relative, or another host: the browser resolves it correctly already
    }
    String mapped = mapPath(path);
    return mapped == null ? location : mapped;
  }

  /** @return the {@code Set-Cookie} value with its {@code Path} attribute mapped, if it has one */
  String cookie(String setCookie) {
    String lower = setCookie.toLowerCase(Locale.ROOT);
    int at = lower.indexOf("; path=");
    if (at < 0) {
      at = lower.indexOf(";path=");
      if (at < 0) {
        return setCookie;
      }
    }
    int valueStart = lower.indexOf('=', at) + 1;
    int valueEnd = setCookie.indexOf(';', valueStart);
    if (valueEnd < 0) {
      valueEnd = setCookie.length();
    }
    String mapped = mapPath(setCookie.substring(valueStart, valueEnd).trim());
    return mapped == null ? setCookie : setCookie.substring(0, valueStart) + mapped + setCookie.substring(valueEnd);
  }

  private String mapPath(String path) {
    if (basePath.isEmpty()) {
      return prefix + path;
    }
    if (path.equals(basePath)) {
      return prefix + "/";
    }
    if (path.startsWith(basePath + "/") || path.startsWith(basePath + "?")) {
      return prefix + path.substring(basePath.length());
    }
    return null; // outside what this route exposes
  }
}
