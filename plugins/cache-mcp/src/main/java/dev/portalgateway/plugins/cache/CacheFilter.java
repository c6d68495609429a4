package dev.portalgateway.plugins.cache;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Answers repeated MCP calls and cacheable GETs from memory. Every response it passes on carries
 * {@code X-Cache}: {@code HIT} (answered here), {@code MISS} (went upstream) or {@code BYPASS}
 * (not something this cache answers).
 */
final class CacheFilter implements Filter {
  /** Which cached MCP methods each list_changed kind makes stale. */
  private static final Map<String, List<String>> STALE_METHODS = Map.of(
      "tools", List.of("tools/list", "tools/call"),
      "prompts", List.of("prompts/list", "prompts/get"),
      "resources", List.of("resources/list", "resources/templates/list", "resources/read"));

  /** The MCP session header (Streamable HTTP). */
  static final String SESSION_HEADER = "Mcp-Session-Id";

  private final CacheSettings settings;
  private final ResponseCache cache;
  private final McpSessions sessions;
  private final HttpCachePolicy http;
  private final Telemetry telemetry;
  private final Clock clock;
  private volatile boolean sized;

  CacheFilter(CacheSettings settings, ResponseCache cache, McpSessions sessions, Telemetry telemetry, Clock clock) {
    this.settings = settings;
    this.cache = cache;
    this.sessions = sessions;
    this.http = new HttpCachePolicy(settings.http().maxTtl());
    this.telemetry = telemetry;
    this.clock = clock;
  }

  @Override
  public Response handle(Request request, Chain chain) throws IOException {
    if (!sized) {
      // Here rather than in create: a configuration the gateway then rejects must not shrink the
      // cache the running one uses.
      sized = true;
      cache.resize(settings.maxBytes());
    }
    if (!settings.covers(request.route())) {
      return chain.proceed(request);
    }
    String method = request.method();
    if (method.equals("POST") && isJson(request.headers().first("Content-Type"))) {
      return mcp(request, chain);
    }
    String session = request.headers().first(SESSION_HEADER);
    if (method.equals("DELETE") && session != null) {
      sessions.ended(request.route(), session); // the client ends its session: nothing of it is served again
      return bypass(request, chain, "mcp");
    }
    if (settings.http().enabled() && (method.equals("GET") || method.equals("HEAD"))) {
      return http(request, chain);
    }
    return bypass(request, chain, "other");
  }

  // ---- MCP ----

  private Response mcp(Request request, Chain chain) throws IOException {
    Prefix body = Prefix.read(request.body().open(), settings.maxRequestBytes());
    Request forwarded = request.withBody(body.complete() ? Body.of(body.bytes()) : Body.ofStream(body.stream(), -1));
    McpCall call = body.complete() ? McpCall.parse(body.bytes()) : null;
    if (call == null) {
      return bypass(forwarded, chain, "mcp");
    }
    String session = request.headers().first(SESSION_HEADER);
    if (call.method().equals("initialize")) {
      Response response = miss(forwarded, chain, "mcp");
      String started = response.headers().first(SESSION_HEADER);
      if (response.status() == 200 && started != null) {
        sessions.started(request.route(), started, call.canonicalParams());
      }
      return response;
    }
    Duration ttl = call.toolName() != null ? settings.mcp().tools().get(call.toolName())
        : call.method().equals("tools/call") ? null : settings.mcp().ttl().get(call.method());
    if (ttl == null) {
      // A call, but not a cacheable one: always goes upstream.
      return ended(request, miss(forwarded, chain, "mcp"), session);
    }
    String fingerprint = session == null ? null : sessions.fingerprint(request.route(), session);
    if (session != null && fingerprint == null) {
      // A session this gateway did not see start (another replica, a restart, a made-up id) or
      // that ended: only the server can answer, and its status (400, 404) tells the client to
      // start again. Nothing is stored for it either.
      telemetry.mcpCall(call.method(), "unknown_session");
      return ended(request, miss(forwarded, chain, "mcp"), session);
    }
    String key = mcpKey(request, call, session, fingerprint);
    boolean stream = McpAnswers.wantsStream(request.headers().first("Accept"));
    if (cache.get(key) instanceof ResponseCache.McpEntry hit) {
      telemetry.request("mcp", "hit");
      telemetry.mcpCall(call.method(), "hit");
      return McpAnswers.answer(hit.result(), call.idJson(), stream, Headers.of("X-Cache", "HIT"));
    }
    ResponseCache.Flight flight = cache.join(key);
    if (flight instanceof ResponseCache.Follower follower) {
      if (ResponseCache.await(follower, settings.singleFlightTimeout()) instanceof ResponseCache.McpEntry shared) {
        telemetry.request("mcp", "coalesced");
        telemetry.mcpCall(call.method(), "coalesced");
        return McpAnswers.answer(shared.result(), call.idJson(), stream, Headers.of("X-Cache", "HIT"));
      }
      return miss(forwarded, chain, "mcp");
    }
    ResponseCache.Leader leader = (ResponseCache.Leader) flight;
    ResponseCache.Entry stored = null;
    try {
      Response response = ended(request, chain.proceed(forwarded), session);
      telemetry.request("mcp", "miss");
      telemetry.mcpCall(call.method(), "miss");
      String type = response.headers().first("Content-Type");
      if (response.status() != 200 || !(isJson(type) || isEventStream(type))) {
        return watched(request, response).withHeader("X-Cache", "MISS");
      }
      Prefix answer = Prefix.read(response.body().open(), settings.maxEntryBytes());
      if (!answer.complete()) {
        return watched(request, response.withBody(Body.ofStream(answer.stream(), -1))).withHeader("X-Cache", "MISS");
      }
      if (isEventStream(type)) {
        ListChangedWatcher.scan(answer.bytes(), kind -> dropStale(request.route(), kind));
      }
      byte[] result = McpAnswers.result(type, answer.bytes(), call.idJson());
      if (result != null) {
        stored = new ResponseCache.McpEntry(result, ttl);
      }
      return response.withBody(Body.of(answer.bytes())).withHeader("X-Cache", "MISS");
    } finally {
      cache.land(leader, stored);
      telemetry.size(cache);
    }
  }

  /**
   * What an answer may depend on, so that it is never served to a request it was not made for: the
   * route, method, endpoint path, protocol version and params, always the caller (principal), and
   * the session (the server may tailor answers to it: capabilities, private resources). A method
   * in {@code mcp.shared} is keyed by the fingerprint of the session's {@code initialize} instead
   * of its id, so sessions of one caller that declared the same thing share entries. A stateless
   * server (no session id) is keyed by caller and request.
   */
  private String mcpKey(Request request, McpCall call, String session, String fingerprint) {
    String version = request.headers().first("Mcp-Protocol-Version");
    Principal p = request.attribute(StandardAttributes.PRINCIPAL);
    String scope;
    if (session == null) {
      scope = "stateless";
    } else if (settings.mcp().shared().contains(call.method())) {
      scope = "declared:" + fingerprint;
    } else {
      scope = "session:" + session;
    }
    // The path is part of the key: one route may serve several MCP endpoints (/github/mcp, /jira/mcp).
    return new StringBuilder(128).append("mcp\0").append(request.route()).append('\0').append(call.method())
        .append('\0').append(request.upstreamPath()).append('\0').append(version == null ? "" : version).append('\0')
        .append(call.canonicalParams()).append('\0').append(p == null ? "anonymous" : p.source() + ':' + p.id())
        .append('\0').append(scope).toString();
  }

  /**
   * Notes a session the server no longer knows: its answer to a request in that session was 400 or
   * 404. The answer came from the server (the gateway's own refusals, a lease that is away, do not
   * reach here as responses), so the session is over.
   */
  private Response ended(Request request, Response response, String session) {
    if (session != null && (response.status() == 400 || response.status() == 404)) {
      sessions.ended(request.route(), session);
    }
    return response;
  }

  /** Drops a lease's entries that a list_changed notification made stale. */
  private void dropStale(String lease, String kind) {
    int dropped = 0;
    for (String method : STALE_METHODS.getOrDefault(kind, List.of())) {
      dropped += cache.invalidatePrefix("mcp\0" + lease + '\0' + method + '\0');
    }
    if (dropped > 0) {
      telemetry.invalidated(kind + "_changed", lease, dropped);
      telemetry.size(cache);
    }
  }

  /** Purges one lease's entries, or all with {@code null}; returns how many. */
  int purge(String lease) {
    int n = lease == null ? cache.invalidateAll()
        : cache.invalidatePrefix("mcp\0" + lease + '\0') + cache.invalidatePrefix("http\0" + lease + '\0');
    telemetry.invalidated("purge", lease == null ? "*" : lease, n);
    telemetry.size(cache);
    return n;
  }

  // ---- plain HTTP ----

  private Response http(Request request, Chain chain) throws IOException {
    if (HttpCachePolicy.bypassReason(request) != null) {
      return bypass(request, chain, "http");
    }
    String key = "http\0" + request.route() + '\0' + request.target();
    boolean fetch = HttpCachePolicy.mustFetch(request);
    if (!fetch && cache.get(key) instanceof ResponseCache.HttpEntry hit && HttpCachePolicy.fits(hit, request)) {
      telemetry.request("http", "hit");
      return HttpCachePolicy.answer(hit, request, clock.millis());
    }
    if (request.method().equals("HEAD")) {
      return miss(request, chain, "http"); // a HEAD answer has no body to store
    }
    ResponseCache.Flight flight = cache.join(key);
    if (flight instanceof ResponseCache.Follower follower) {
      if (ResponseCache.await(follower, settings.singleFlightTimeout()) instanceof ResponseCache.HttpEntry shared
          && HttpCachePolicy.fits(shared, request)) {
        telemetry.request("http", "coalesced");
        return HttpCachePolicy.answer(shared, request, clock.millis());
      }
      return miss(request, chain, "http");
    }
    ResponseCache.Leader leader = (ResponseCache.Leader) flight;
    ResponseCache.Entry stored = null;
    try {
      Response response = chain.proceed(request);
      telemetry.request("http", "miss");
      Duration ttl = http.freshness(response);
      if (ttl == null) {
        return watched(request, response).withHeader("X-Cache", "MISS");
      }
      Prefix body = Prefix.read(response.body().open(), settings.maxEntryBytes());
      if (!body.complete()) {
        return watched(request, response.withBody(Body.ofStream(body.stream(), -1))).withHeader("X-Cache", "MISS");
      }
      long age = parseAge(response.headers().first("Age"));
      stored = new ResponseCache.HttpEntry(response.status(), HttpCachePolicy.storedHeaders(response.headers()),
          body.bytes(), clock.millis(), age, ttl, HttpCachePolicy.varyValues(response.headers().first("Vary"), request));
      return response.withBody(Body.of(body.bytes())).withHeader("X-Cache", "MISS");
    } finally {
      cache.land(leader, stored);
      telemetry.size(cache);
    }
  }

  // ---- shared ----

  private Response miss(Request request, Chain chain, String kind) throws IOException {
    telemetry.request(kind, "miss");
    return watched(request, chain.proceed(request)).withHeader("X-Cache", "MISS");
  }

  private Response bypass(Request request, Chain chain, String kind) throws IOException {
    telemetry.request(kind, "bypass");
    return watched(request, chain.proceed(request)).withHeader("X-Cache", "BYPASS");
  }

  /** Watches an event stream from the lease for list_changed notifications as it passes. */
  private Response watched(Request request, Response response) {
    if (!isEventStream(response.headers().first("Content-Type"))) {
      return response;
    }
    String lease = request.route();
    return response.withBody(response.body().map(in -> new ListChangedWatcher(in, kind -> dropStale(lease, kind))));
  }

  private static boolean isJson(String type) {
    String t = type == null ? "" : type.toLowerCase(Locale.ROOT);
    return t.startsWith("application/json") || (t.startsWith("application/") && t.contains("+json"));
  }

  private static boolean isEventStream(String type) {
    return type != null && type.toLowerCase(Locale.ROOT).startsWith("text/event-stream");
  }

  private static long parseAge(String age) {
    try {
      return age == null ? 0 : Math.max(0, Long.parseLong(age.trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * The start of a body, read up to a limit: either all of it ({@link #complete()}), or the part
   * read plus the rest still to come, as one stream, so that nothing is lost when it is too long.
   */
  record Prefix(byte[] bytes, InputStream rest) {
    static Prefix read(InputStream in, long limit) throws IOException {
      byte[] head = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
      if (head.length <= limit) {
        in.close();
        return new Prefix(head, null);
      }
      return new Prefix(head, in);
    }

    boolean complete() {
      return rest == null;
    }

    /** @return the whole body again, the part read first */
    InputStream stream() {
      return new SequenceInputStream(new ByteArrayInputStream(bytes), rest);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Prefix p && Arrays.equals(bytes, p.bytes) && rest == p.rest;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "Prefix[" + bytes.length + " bytes" + (rest == null ? "" : ", more") + "]";
    }
  }
}
