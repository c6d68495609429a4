package dev.portalgateway.host.ops;

import java.util.Locale;
import java.util.Set;

/**
 * Decides what never reaches a log line from a query string. Headers need no such list: the access
 * log writes chosen fields only (the user agent, never Authorization, cookies or keys).
 */
public final class Redaction {
  /** What a redacted value is replaced with. */
  public static final String REDACTED = "REDACTED";

  private static final Set<String> SENSITIVE_PARAMS = Set.of(
      "api_key", "apikey", "key", "token", "access_token", "id_token", "refresh_token", "code",
      "client_secret", "password", "secret", "sig", "signature", "state");

  private Redaction() {}

  /** Upstreams decode {@code api%5Fkey} to {@code api_key}, so the redaction must too. */
  private static String decode(String name) {
    if (name.indexOf('%') < 0 && name.indexOf('+') < 0) {
      return name;
    }
    try {
      return java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return name;
    }
  }

  /**
   * @param rawQuery a query string without {@code ?}, or {@code null}
   * @return the query with the values of credential parameters replaced
   */
  public static String query(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return rawQuery;
    }
    StringBuilder out = new StringBuilder(rawQuery.length());
    int start = 0;
    while (start <= rawQuery.length()) {
      int amp = rawQuery.indexOf('&', start);
      int end = amp < 0 ? rawQuery.length() : amp;
      String pair = rawQuery.substring(start, end);
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      if (out.length() > 0 || start > 0) {
        out.append('&');
      }
      if (eq >= 0 && SENSITIVE_PARAMS.contains(decode(name).toLowerCase(Locale.ROOT))) {
        out.append(name).append('=').append(REDACTED);
      } else {
        out.append(pair);
      }
      if (amp < 0) {
        break;
      }
      start = amp + 1;
    }
    return out.toString();
  }
}
