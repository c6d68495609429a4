package dev.portalgateway.plugins.cache;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The rules of a shared HTTP cache (RFC 9111), for GET and HEAD: what may be stored, for how long,
 * which stored answer fits a request, and when a validator lets the cache answer 304. Only
 * explicit freshness is used ({@code s-maxage}, {@code max-age}, {@code Expires}); an answer
 * without it, or one the upstream marks {@code no-store}, {@code private} or {@code no-cache}, is
 * not stored. Stale answers are dropped, not revalidated.
 */
final class HttpCachePolicy {
  /**
   * Statuses a shared cache may store given explicit freshness: RFC 9110 §15.1's heuristically
   * cacheable set, without 206 (partial answers are never stored here).
   */
  private static final Set<Integer> STORABLE = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);
  /** Fields that describe one connection or one answer's delivery, not the stored answer. */
  private static final Set<String> NOT_STORED = Set.of("connection", "keep-alive", "transfer-encoding", "te", "trailer",
      "upgrade", "proxy-connection", "proxy-authenticate", "age", "x-cache", "content-length", "date");

  private final Duration maxTtl;

  HttpCachePolicy(Duration maxTtl) {
    this.maxTtl = maxTtl;
  }

  /**
   * @return why the request cannot be answered from or stored in the cache, or {@code null} when
   *     it can: only GET and HEAD, without credentials for the upstream, without {@code no-store},
   *     without {@code Range}
   */
  static String bypassReason(Request request) {
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return "method";
    }
    Headers h = request.headers();
    if (h.contains("Authorization") || h.contains("Cookie")) {
      return "credentials"; // answers to these belong to one caller
    }
    if (h.contains("Range")) {
      return "range";
    }
    String cc = lower(h.first("Cache-Control"));
    if (cc != null && cc.contains("no-store")) {
      return "no-store";
    }
    return null;
  }

  /** @return whether the client asked for a fresh answer ({@code no-cache}): go upstream, then store */
  static boolean mustFetch(Request request) {
    String cc = lower(request.headers().first("Cache-Control"));
    String pragma = lower(request.headers().first("Pragma"));
    return (cc != null && (cc.contains("no-cache") || cc.contains("max-age=0"))) || (cc == null && "no-cache".equals(pragma));
  }

  /**
   * @param response the upstream's answer (headers only are read)
   * @return how long the answer may be stored, or {@code null} when it may not be
   */
  Duration freshness(Response response) {
    if (!STORABLE.contains(response.status())) {
      return null;
    }
    Headers h = response.headers();
    if (h.contains("Set-Cookie")) {
      return null; // a cookie for one client must never reach another
    }
    String vary = h.first("Vary");
    if (vary != null && vary.contains("*")) {
      return null;
    }
    String cc = lower(String.join(",", h.all("Cache-Control")));
    if (cc.contains("no-store") || cc.contains("private") || cc.contains("no-cache")) {
      return null;
    }
    Long seconds = directive(cc, "s-maxage");
    if (seconds == null) {
      seconds = directive(cc, "max-age");
    }
    if (seconds == null) {
      seconds = expiresIn(h.first("Expires"), h.first("Date"));
    }
    if (seconds == null) {
      return null;
    }
    long age = parseLong(h.first("Age"));
    long left = seconds - Math.max(0, age);
    if (left <= 0) {
      return null;
    }
    Duration d = Duration.ofSeconds(left);
    return d.compareTo(maxTtl) > 0 ? maxTtl : d;
  }

  /** @return the request's values of the fields the answer varies on, lower-case names */
  static Map<String, String> varyValues(String vary, Request request) {
    Map<String, String> values = new LinkedHashMap<>();
    if (vary == null || vary.isBlank()) {
      return values;
    }
    for (String name : vary.split(",")) {
      String n = name.trim().toLowerCase(Locale.ROOT);
      if (!n.isEmpty()) {
        values.put(n, String.join(",", request.headers().all(n)));
      }
    }
    return values;
  }

  /** @return whether a stored answer chosen by {@code vary} fits this request */
  static boolean fits(ResponseCache.HttpEntry entry, Request request) {
    for (var e : entry.vary().entrySet()) {
      if (!e.getValue().equals(String.join(",", request.headers().all(e.getKey())))) {
        return false;
      }
    }
    return true;
  }

  /** @return the answer's headers as they are stored: without per-connection and per-delivery fields */
  static Headers storedHeaders(Headers headers) {
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      if (!NOT_STORED.contains(headers.name(i).toLowerCase(Locale.ROOT))) {
        b.add(headers.name(i), headers.value(i));
      }
    }
    return b.build();
  }

  /** @return a stored answer for {@code request}: 304 when its validator matches, else the answer */
  static Response answer(ResponseCache.HttpEntry entry, Request request, long nowMillis) {
    long age = entry.initialAgeSeconds() + Math.max(0, (nowMillis - entry.storedAtMillis()) / 1000);
    Headers.Builder h = entry.headers().toBuilder();
    h.set("Age", Long.toString(age));
    h.set("X-Cache", "HIT");
    String etag = entry.headers().first("ETag");
    String inm = request.headers().first("If-None-Match");
    if (etag != null && inm != null && matches(inm, etag) && entry.status() == 200) {
      Headers.Builder notModified = Headers.builder();
      for (String name : new String[] {"ETag", "Cache-Control", "Expires", "Vary", "Content-Location", "Last-Modified"}) {
        String v = entry.headers().first(name);
        if (v != null) {
          notModified.set(name, v);
        }
      }
      notModified.set("Age", Long.toString(age));
      notModified.set("X-Cache", "HIT");
      return Response.of(304, notModified.build(), Body.empty());
    }
    return Response.of(entry.status(), h.build(), request.method().equals("HEAD") ? Body.empty() : Body.of(entry.body()));
  }

  /** {@code If-None-Match}: {@code *} or a list of tags, compared weakly (RFC 9110 §13.1.2). */
  static boolean matches(String ifNoneMatch, String etag) {
    String tag = weak(etag.trim());
    for (String candidate : ifNoneMatch.split(",")) {
      String c = candidate.trim();
      if (c.equals("*") || weak(c).equals(tag)) {
        return true;
      }
    }
    return false;
  }

  private static String weak(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }

  private static Long directive(String cc, String name) {
    int i = cc.indexOf(name + "=");
    while (i >= 0) {
      boolean boundary = i == 0 || cc.charAt(i - 1) == ',' || cc.charAt(i - 1) == ' ';
      if (boundary) {
        int from = i + name.length() + 1;
        int to = from;
        if (to < cc.length() && cc.charAt(to) == '"') {
          from++;
          to++;
        }
        while (to < cc.length() && Character.isDigit(cc.charAt(to))) {
          to++;
        }
        if (to > from) {
          try {
            return Long.parseLong(cc.substring(from, to));
          } catch (NumberFormatException e) {
            return null;
          }
        }
        return null;
      }
      i = cc.indexOf(name + "=", i + 1);
    }
    return null;
  }

  private static Long expiresIn(String expires, String date) {
    if (expires == null) {
      return null;
    }
    try {
      ZonedDateTime e = ZonedDateTime.parse(expires.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
      ZonedDateTime base = date == null ? ZonedDateTime.now() : ZonedDateTime.parse(date.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
      long s = Duration.between(base, e).toSeconds();
      return s > 0 ? s : null;
    } catch (DateTimeParseException e) {
      return null; // an invalid Expires means "already expired"
    }
  }

  private static long parseLong(String s) {
    if (s == null) {
      return 0;
    }
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String lower(String s) {
    return s == null ? null : s.toLowerCase(Locale.ROOT);
  }
}
