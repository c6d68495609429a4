package dev.portalgateway.plugins.cache;

import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything under {@code plugins.cache-mcp}; docs/plugins/cache-mcp.md describes each key.
 *
 * @param maxBytes the most bytes all entries hold together
 * @param maxEntryBytes the largest answer that is stored
 * @param maxRequestBytes the largest MCP request body that is read to find its method
 * @param leases the routes the cache works on; empty for all
 * @param mcp what MCP answers are cached and for how long
 * @param http plain HTTP caching of GET and HEAD
 * @param singleFlightTimeout how long identical requests wait for the first one's answer before
 *     going upstream themselves
 */
record CacheSettings(Long maxBytes, Long maxEntryBytes, Long maxRequestBytes, List<String> leases, Mcp mcp, Http http,
    Duration singleFlightTimeout) {

  /** The MCP methods cached by default, with their time to live. */
  static final Map<String, Duration> DEFAULT_TTL = defaults();

  /**
   * MCP caching.
   *
   * @param ttl per cacheable method, how long an answer is kept; methods not listed are never cached
   * @param tools per tool name, how long a {@code tools/call} answer is kept; other tools are never cached
   * @param shared methods whose answers may be shared between sessions of one caller that declared
   *     the same thing in {@code initialize}; every other method is answered per session and caller
   * @param sessionIdle how long a session this plugin saw start is remembered without a request
   * @param perPrincipal the setting before sessions: refused with a message saying what replaced it
   */
  record Mcp(Map<String, Duration> ttl, Map<String, Duration> tools, List<String> shared, Duration sessionIdle,
      List<String> perPrincipal) {
    Mcp {
      ttl = ttl == null ? DEFAULT_TTL : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ttl));
      tools = tools == null ? Map.of() : Map.copyOf(tools);
      shared = shared == null ? List.of() : List.copyOf(shared);
      sessionIdle = sessionIdle == null ? Duration.ofHours(1) : sessionIdle;
    }
  }

  /**
   * Plain HTTP caching, by the response's {@code Cache-Control}, {@code Expires} and {@code Vary}.
   *
   * @param enabled whether GET and HEAD answers are cached at all
   * @param maxTtl the longest any answer is kept, whatever the upstream says
   */
  record Http(Boolean enabled, Duration maxTtl) {
    Http {
      enabled = enabled == null || enabled;
      maxTtl = maxTtl == null ? Duration.ofHours(1) : maxTtl;
    }
  }

  /** Applies the defaults. */
  CacheSettings {
    maxBytes = maxBytes == null ? 64L * 1024 * 1024 : maxBytes;
    maxEntryBytes = maxEntryBytes == null ? 1024L * 1024 : maxEntryBytes;
    maxRequestBytes = maxRequestBytes == null ? 64L * 1024 : maxRequestBytes;
    leases = leases == null ? List.of() : List.copyOf(leases);
    mcp = mcp == null ? new Mcp(null, null, null, null, null) : mcp;
    http = http == null ? new Http(null, null) : http;
    singleFlightTimeout = singleFlightTimeout == null ? Duration.ofSeconds(30) : singleFlightTimeout;
  }

  private static Map<String, Duration> defaults() {
    Map<String, Duration> m = new LinkedHashMap<>();
    m.put("tools/list", Duration.ofMinutes(5));
    m.put("prompts/list", Duration.ofMinutes(5));
    m.put("resources/list", Duration.ofMinutes(5));
    m.put("resources/templates/list", Duration.ofMinutes(5));
    m.put("resources/read", Duration.ofMinutes(1));
    return java.util.Collections.unmodifiableMap(m); // in this order in logs and docs
  }

  /**
   * Binds and checks the settings.
   *
   * @throws InvalidConfigException naming the key and the problem
   */
  static CacheSettings from(PluginConfig config) throws InvalidConfigException {
    CacheSettings s = config.bind(CacheSettings.class);
    String p = config.path();
    List<String> errors = new ArrayList<>();
    if (s.maxBytes() < 1024) {
      errors.add(p + ".max_bytes: must be at least 1KiB");
    }
    if (s.maxEntryBytes() < 1 || s.maxEntryBytes() > s.maxBytes()) {
      errors.add(p + ".max_entry_bytes: must be between 1 and max_bytes");
    }
    if (s.maxRequestBytes() < 256) {
      errors.add(p + ".max_request_bytes: must be at least 256");
    }
    s.mcp().ttl().forEach((method, ttl) -> {
      if (method.equals("tools/call")) {
        errors.add(p + ".mcp.ttl.tools/call: list cacheable tools under mcp.tools instead, by name");
      } else if (method.startsWith("notifications/") || method.equals("initialize")) {
        errors.add(p + ".mcp.ttl." + method + ": this method is never cached");
      }
      positive(errors, p + ".mcp.ttl." + method, ttl);
    });
    s.mcp().tools().forEach((tool, ttl) -> positive(errors, p + ".mcp.tools." + tool, ttl));
    if (s.mcp().perPrincipal() != null) {
      errors.add(p + ".mcp.per_principal: no longer a setting. Every cached answer is now kept per MCP session and "
          + "caller (answers may depend on both); remove per_principal, and list under mcp.shared the methods whose "
          + "answers may be shared between sessions of one caller that declared the same capabilities, such as "
          + "mcp.shared: [tools/list]");
    }
    for (String method : s.mcp().shared()) {
      if (!s.mcp().ttl().containsKey(method) && !method.equals("tools/call")) {
        errors.add(p + ".mcp.shared: " + method + " is not a cached method (mcp.ttl)");
      }
    }
    if (s.mcp().sessionIdle().isZero() || s.mcp().sessionIdle().isNegative()) {
      errors.add(p + ".mcp.session_idle: set a time above zero, such as 1h");
    }
    positive(errors, p + ".http.max_ttl", s.http().maxTtl());
    if (s.singleFlightTimeout().isZero() || s.singleFlightTimeout().isNegative()) {
      errors.add(p + ".single_flight_timeout: set a timeout above zero, such as 30s");
    }
    if (!errors.isEmpty()) {
      throw new InvalidConfigException(String.join("; ", errors));
    }
    return s;
  }

  private static void positive(List<String> errors, String key, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      errors.add(key + ": set a time to live above zero, such as 5m");
    }
  }

  /** @return whether the cache works on {@code route} */
  boolean covers(String route) {
    return leases.isEmpty() || leases.contains(route);
  }
}
