package dev.portalgateway.host.proxy;

import java.util.Locale;

/**
 * Maps the upstream's own URLs in {@code Location} and {@code Set-Cookie} back into the gateway's
 * {@code /peer/{name}/} space, as {@code proxy_redirect} and {@code proxy_cookie_path} do in nginx.
 * Without it, an upstream's {@code Location: /login} sends the browser to the gateway's root.
 */
public final class UpstreamLocations {
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

  /**
   * Maps an upstream response's {@code Location}, {@code Content-Location} and {@code Set-Cookie}
   * fields. Only the connector's responses go through this: a response a plugin made itself (a
   * login redirect, its own cookie) is already in the gateway's space.
   *
   * @param routePath where the route is mounted, such as {@code /peer/docs}
   * @return the headers, mapped; the same object when there was nothing to map
   */
  public static dev.portalgateway.api.Headers mapped(dev.portalgateway.api.Headers headers, String routePath,
      String basePath, String origin) {
    if (headers.first("Location") == null && headers.first("Content-Location") == null
        && headers.first("Set-Cookie") == null) {
      return headers;
    }
    UpstreamLocations locations = new UpstreamLocations(routePath, basePath, origin);
    dev.portalgateway.api.Headers.Builder b = dev.portalgateway.api.Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      String value = headers.value(i);
      if (name.equalsIgnoreCase("Location") || name.equalsIgnoreCase("Content-Location")) {
        value = locations.location(value);
      } else if (name.equalsIgnoreCase("Set-Cookie")) {
        value = locations.cookie(value);
      }
      b.add(name, value);
    }
    return b.build();
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
