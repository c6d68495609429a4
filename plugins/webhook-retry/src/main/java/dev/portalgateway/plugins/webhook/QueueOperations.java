package dev.portalgateway.plugins.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.portalgateway.api.Headers;
import dev.portalgateway.plugins.webhook.WebhookStore.Detail;
import dev.portalgateway.plugins.webhook.WebhookStore.Selection;
import dev.portalgateway.plugins.webhook.WebhookStore.Summary;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What an operator can do with the queue: list, show, replay, purge, resume, stats. The admin API
 * and the {@code webhooks} command both call these, with the same parameters, and get the same
 * JSON. Shown headers have secrets redacted; bodies are never part of the JSON.
 */
final class QueueOperations {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final List<String> SECRET_WORDS = List.of("authorization", "cookie", "signature", "secret", "token",
      "api-key", "apikey", "password", "x-hub-signature");
  static final int DEFAULT_LIMIT = 100;

  /** A request an operator got wrong; the message says how to get it right. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  private final WebhookStore store;

  QueueOperations(WebhookStore store) {
    this.store = store;
  }

  String list(Map<String, String> params, Instant now) throws UsageException, StoreException {
    Selection s = selection(params, now, false);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Summary w : store.list(s)) {
      rows.add(summary(w));
    }
    return json(Map.of("webhooks", rows));
  }

  /** @return the webhook as JSON, or empty when there is none of that id */
  Optional<String> show(String id) throws StoreException {
    Optional<Detail> found = store.find(id);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Detail d = found.get();
    Map<String, Object> out = summary(d.summary());
    out.put("query", d.query());
    out.put("headers", redacted(d.headers()));
    out.put("body_sha256", sha256(d.body()));
    List<Map<String, Object>> attempts = new ArrayList<>();
    for (WebhookStore.AttemptRecord a : d.attempts()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("attempt", a.attempt());
      m.put("started_at", a.startedAt().toString());
      m.put("duration_ms", a.durationMillis());
      m.put("status", a.status());
      m.put("outcome", a.outcome());
      m.put("error", a.error());
      attempts.add(m);
    }
    out.put("attempts", attempts);
    return Optional.of(json(out));
  }

  Optional<byte[]> body(String id) throws StoreException {
    return store.find(id).map(Detail::body);
  }

  String replay(Map<String, String> params, Instant now) throws UsageException, StoreException {
    Selection s = selection(params, now, true);
    return json(Map.of("replayed", store.replay(s, now)));
  }

  String purge(Map<String, String> params, Instant now) throws UsageException, StoreException {
    Selection s = selection(params, now, true);
    return json(Map.of("purged", store.purge(s)));
  }

  String resume(String route) throws UsageException, StoreException {
    if (route == null || route.isBlank()) {
      throw new UsageException("name the route to resume: route=NAME");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("route", route);
    out.put("resumed", store.resume(route));
    return json(out);
  }

  String stats(Instant now) throws StoreException {
    WebhookStore.Stats stats = store.stats();
    Map<String, Object> routes = new java.util.TreeMap<>();
    java.util.Set<String> names = new java.util.TreeSet<>(stats.counts().keySet());
    names.addAll(stats.paused().keySet());
    for (String route : names) {
      Map<String, Object> r = new LinkedHashMap<>();
      Map<String, Long> counts = stats.counts().getOrDefault(route, Map.of());
      for (String state : WebhookStore.STATES) {
        r.put(state, counts.getOrDefault(state, 0L));
      }
      Instant oldest = stats.oldestPending().get(route);
      r.put("oldest_pending_seconds", oldest == null ? null : Duration.between(oldest, now).toSeconds());
      r.put("paused", stats.paused().get(route));
      routes.put(route, r);
    }
    return json(Map.of("routes", routes));
  }

  /**
   * Reads a selection: {@code id} (comma-separated), {@code state}, {@code route}, {@code since}
   * and {@code until} (an ISO-8601 instant, or a duration such as {@code 2h} meaning that long
   * ago), {@code limit}.
   *
   * @param changes whether the selection is for a change, which must name something: never
   *     "everything" by accident
   */
  static Selection selection(Map<String, String> p, Instant now, boolean changes) throws UsageException {
    List<String> ids = p.get("id") == null || p.get("id").isBlank() ? List.of()
        : Arrays.stream(p.get("id").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    String state = blankToNull(p.get("state"));
    if (state != null) {
      state = state.toLowerCase(Locale.ROOT).replace('-', '_');
      if (!WebhookStore.STATES.contains(state)) {
        throw new UsageException("state is one of " + String.join(", ", WebhookStore.STATES) + ", not '" + state + "'");
      }
      if (changes && state.equals("in_flight")) {
        throw new UsageException("webhooks in flight cannot be replayed or purged; wait for their attempt to end");
      }
    }
    int limit = DEFAULT_LIMIT;
    if (p.get("limit") != null) {
      try {
        limit = Integer.parseInt(p.get("limit").trim());
      } catch (NumberFormatException e) {
        throw new UsageException("limit is a number, not '" + p.get("limit") + "'");
      }
      if (limit < 1 || limit > 10_000) {
        throw new UsageException("limit is between 1 and 10000");
      }
    }
    Selection s = new Selection(ids, state, blankToNull(p.get("route")), time("since", p.get("since"), now),
        time("until", p.get("until"), now), limit);
    if (changes && s.isEmpty()) {
      throw new UsageException("say which webhooks: id=ID[,ID...], or any of state=dead, route=NAME, since=TIME (such as "
          + "since=2h or since=2026-12-01T00:00:00Z)");
    }
    return s;
  }

  private static Instant time(String name, String value, Instant now) throws UsageException {
    value = blankToNull(value);
    if (value == null) {
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException notInstant) {
      try {
        return now.minus(parseDuration(value));
      } catch (IllegalArgumentException e) {
        throw new UsageException(name + " is an instant (2026-12-01T00:00:00Z) or a duration ago (90m, 2h, 7d), not '"
            + value + "'");
      }
    }
  }

  private static Duration parseDuration(String v) {
    String t = v.trim().toLowerCase(Locale.ROOT);
    int split = 0;
    while (split < t.length() && Character.isDigit(t.charAt(split))) {
      split++;
    }
    if (split == 0 || split == t.length()) {
      throw new IllegalArgumentException(v);
    }
    long n = Long.parseLong(t.substring(0, split));
    return switch (t.substring(split)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException(v);
    };
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static Map<String, Object> summary(Summary w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", w.id());
    m.put("route", w.route());
    m.put("method", w.method());
    m.put("path", w.path());
    m.put("state", w.state());
    m.put("received_at", w.receivedAt().toString());
    m.put("attempts", w.attempts());
    m.put("next_attempt_at", w.nextAt() == null ? null : w.nextAt().toString());
    m.put("last_status", w.lastStatus());
    m.put("last_error", w.lastError());
    m.put("finished_at", w.finishedAt() == null ? null : w.finishedAt().toString());
    m.put("possibly_delivered", w.possiblyDelivered());
    m.put("body_bytes", w.bodyBytes());
    return m;
  }

  static Map<String, String> redacted(Headers headers) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      String lower = name.toLowerCase(Locale.ROOT);
      boolean secret = SECRET_WORDS.stream().anyMatch(lower::contains);
      out.merge(name, secret ? "[redacted]" : headers.value(i), (a, b) -> a + ", " + b);
    }
    return out;
  }

  private static String sha256(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }
}
