package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.StandardAttributes;
import java.net.Inet6Address;
import java.net.InetAddress;

/** Who a request counts against. */
final class Callers {
  private Callers() {}

  /**
   * The caller's identity for per-principal limits: the authenticated principal's id (an API key
   * id, an SSO subject), or, for a request nobody authenticated, its client address bucket, so
   * that anonymous callers are limited one by one too.
   */
  static String principal(Request request) {
    Principal p = request.attribute(StandardAttributes.PRINCIPAL);
    return p != null ? p.id() : "ip:" + clientBucket(request.clientAddress());
  }

  /**
   * The client's address for per-address limits. IPv6 clients count per /64, since one host
   * commonly holds a whole /64 and could otherwise step through addresses.
   */
  static String clientBucket(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address.getHostAddress();
    }
    byte[] a = address.getAddress();
    StringBuilder sb = new StringBuilder(24);
    for (int i = 0; i < 8; i += 2) {
      sb.append(Integer.toHexString(((a[i] & 0xFF) << 8) | (a[i + 1] & 0xFF))).append(':');
    }
    return sb.append(":/64").toString();
  }
}
