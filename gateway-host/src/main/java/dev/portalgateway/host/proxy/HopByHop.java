package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Headers;
import java.util.Locale;
import java.util.Set;

/**
 * Removes the fields that describe one connection rather than the message (RFC 9110 §7.6.1): the
 * fixed list below plus every field that {@code Connection} names. A proxy that forwards them
 * lets a client steer the gateway's upstream connection (request smuggling, hijacked keep-alive).
 */
public final class HopByHop {
  private static final Set<String> FIELDS = Set.of(
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
      "proxy-authenticate", "proxy-authorization");

  private HopByHop() {}

  /** @return whether {@code name} is always hop-by-hop */
  public static boolean isHopByHop(String name) {
    return FIELDS.contains(name.toLowerCase(Locale.ROOT));
  }

  /**
   * @param headers fields as received
   * @return the fields without hop-by-hop ones
   */
  public static Headers strip(Headers headers) {
    String connection = headers.first("Connection");
    boolean any = connection != null;
    for (int i = 0; i < headers.size() && !any; i++) {
      any = isHopByHop(headers.name(i));
    }
    if (!any) {
      return headers;
    }
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (!isHopByHop(name) && !namedIn(headers, name)) {
        b.add(name, headers.value(i));
      }
    }
    return b.build();
  }

  private static boolean namedIn(Headers headers, String name) {
    for (String connection : headers.all("Connection")) {
      for (String token : connection.split(",")) {
        if (token.trim().equalsIgnoreCase(name)) {
          return true;
        }
      }
    }
    return false;
  }
}
