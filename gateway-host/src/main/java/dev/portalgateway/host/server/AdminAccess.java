package dev.portalgateway.host.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who may talk to the admin listener, besides where it listens. A {@code Host} that names
 * neither an IP literal nor one of {@code server.admin_hosts} is refused: a web page that makes a
 * browser on the operator's machine resolve its own name to 127.0.0.1 (DNS rebinding) still sends
 * its own name, so it cannot read {@code /metrics}. Kubernetes probes and Prometheus scrapes by
 * pod IP send an IP literal. An optional bearer token guards everything but the health endpoints.
 */
final class AdminAccess {
  /** Paths that need no token: probes must work with nothing but an address. */
  private static final Set<String> OPEN = Set.of("/healthz", "/readyz");

  private final Set<String> hosts;
  private final byte[] token;

  AdminAccess(List<String> hosts, String token) {
    this.hosts = Set.copyOf(hosts);
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  /** Why a request is refused. */
  record Refusal(int status, String type, String detail) {}

  /** @return why the request is refused, or null when it may go on */
  Refusal check(String host, String authorization, String path) {
    if (host != null && !allowedHost(host)) {
      return new Refusal(421, "admin-host-refused", "The admin listener does not answer for this Host; use its IP "
          + "address, or add the name to server.admin_hosts.");
    }
    if (token != null && !OPEN.contains(path)) {
      byte[] given = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
          ? authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
      if (!MessageDigest.isEqual(token, given)) {
        return new Refusal(401, "admin-token-required", "This admin endpoint needs the admin token: "
            + "Authorization: Bearer <server.admin_token>.");
      }
    }
    return null;
  }

  private boolean allowedHost(String hostHeader) {
    String h = hostHeader.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 0 && isIpv6(h.substring(1, end)) && (end == h.length() - 1 || isPort(h.substring(end + 1)));
    }
    int colon = h.lastIndexOf(':');
    String name = h;
    if (colon >= 0) {
      if (!isPort(h.substring(colon))) {
        return false;
      }
      name = h.substring(0, colon);
    }
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    return isIpv4(name) || hosts.contains(name);
  }

  private static boolean isPort(String colonAndPort) {
    if (colonAndPort.length() < 2 || colonAndPort.length() > 6 || colonAndPort.charAt(0) != ':') {
      return false;
    }
    for (int i = 1; i < colonAndPort.length(); i++) {
      if (!Character.isDigit(colonAndPort.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  static boolean isIpv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  private static boolean isIpv6(String s) {
    if (s.isEmpty() || s.indexOf(':') < 0) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.' || c == '%')) {
        return false;
      }
    }
    return true;
  }
}
