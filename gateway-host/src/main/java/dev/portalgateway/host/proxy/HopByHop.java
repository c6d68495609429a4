package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Headers;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes the fields that describe one connection rather than the message (RFC 9110 §7.6.1): the
 * fixed list below plus every field that {@code Connection} names. A proxy that forwards them
 * lets a client steer the gateway's upstream connection (request smuggling, hijacked keep-alive).
 *
 * <p>Runs twice per request (request and response head), so it compares names in place instead
 * of lower-casing them, and parses {@code Connection} once.
 */
public final class HopByHop {
  private static final String[] FIELDS = {
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
      "proxy-authenticate", "proxy-authorization"};

  private HopByHop() {}

  /** @return whether {@code name} is always hop-by-hop */
  public static boolean isHopByHop(String name) {
    for (String f : FIELDS) {
      if (f.length() == name.length() && f.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param headers fields as received
   * @return the fields without hop-by-hop ones; the same instance when there are none
   */
  public static Headers strip(Headers headers) {
    int first = -1;
    for (int i = 0; i < headers.size(); i++) {
      if (isHopByHop(headers.name(i))) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      return headers; // no Connection field either, so nothing it could name
    }
    List<String> named = connectionTokens(headers);
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (!isHopByHop(name) && !contains(named, name)) {
        b.add(name, headers.value(i));
      }
    }
    return b.build();
  }

  /** The field names listed in {@code Connection}, other than the common keep-alive and close. */
  private static List<String> connectionTokens(Headers headers) {
    List<String> tokens = null;
    for (int i = 0; i < headers.size(); i++) {
      if (!headers.name(i).equalsIgnoreCase("Connection")) {
        continue;
      }
      String value = headers.value(i);
      int start = 0;
      while (start < value.length()) {
        int comma = value.indexOf(',', start);
        int end = comma < 0 ? value.length() : comma;
        String token = value.substring(start, end).trim();
        if (!token.isEmpty() && !token.equalsIgnoreCase("keep-alive") && !token.equalsIgnoreCase("close")) {
          if (tokens == null) {
            tokens = new ArrayList<>(2);
          }
          tokens.add(token);
        }
        start = end + 1;
      }
    }
    return tokens == null ? List.of() : tokens;
  }

  private static boolean contains(List<String> names, String name) {
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }
}
