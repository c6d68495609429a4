package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything under {@code plugins.ratelimit-token-cost}; docs/plugins/ratelimit-token-cost.md
 * describes each key. Both the full shape and the seed's short one are accepted:
 *
 * <pre>
 * ratelimit-token-cost:
 *   type: token_cost
 *   max_cost_per_minute: 100
 *   pricing: { gpt-4o: 0.03, claude-sonnet: 0.015 }
 * </pre>
 *
 * <p>The short shape's {@code max_cost_per_minute} is a per-principal money budget.
 */
record RateLimitSettings(
    String type,
    String store,
    RedisSettings redis,
    String onStoreFailure,
    Requests requests,
    Budgets budgets,
    Overrides overrides,
    Map<String, Object> pricing,
    Double maxCostPerMinute,
    Long defaultMaxTokens,
    Long noUsageChargeTokens,
    Boolean injectStreamUsage,
    Duration abandonedStreamTimeout,
    Long maxInspectBytes,
    List<String> reportPrincipals) {

  /** A token bucket: {@code rate_per_second} sustained, {@code burst} at once. */
  record Rate(Double ratePerSecond, Long burst) {
    Rate {
      if (ratePerSecond != null && burst == null) {
        burst = Math.max(1, (long) Math.ceil(ratePerSecond)); // a burst of one second's worth
      }
    }
  }

  /** Budgets over fixed windows, in tokens and in money (the pricing table's currency). */
  record Budget(Long tokensPerMinute, Long tokensPerHour, Long tokensPerDay, Double costPerMinute, Double costPerHour,
      Double costPerDay) {
    boolean isEmpty() {
      return tokensPerMinute == null && tokensPerHour == null && tokensPerDay == null && costPerMinute == null
          && costPerHour == null && costPerDay == null;
    }
  }

  /** Request-rate buckets per dimension; a missing one is not limited. */
  record Requests(Rate global, Rate perClientIp, Rate perPrincipal, Rate perLease) {}

  /** Budgets per dimension. */
  record Budgets(Budget perPrincipal, Budget perLease) {}

  /** What one principal or lease gets instead of the dimension's defaults. */
  record Override(Rate requests, Budget budget) {}

  /** Per-principal (API key id, SSO subject) and per-lease overrides. */
  record Overrides(Map<String, Override> principals, Map<String, Override> leases) {
    Overrides {
      principals = withoutNulls(principals);
      leases = withoutNulls(leases);
    }

    /** An override written with no value ({@code key:}) becomes an empty one, which the checks then name. */
    private static Map<String, Override> withoutNulls(Map<String, Override> m) {
      if (m == null) {
        return Map.of();
      }
      Map<String, Override> copy = new java.util.HashMap<>();
      m.forEach((k, v) -> copy.put(k, v == null ? new Override(null, null) : v));
      return Map.copyOf(copy);
    }
  }

  /** Applies defaults. */
  RateLimitSettings {
    store = store == null ? "local" : store;
    redis = redis == null ? RedisSettings.defaults() : redis;
    onStoreFailure = onStoreFailure == null ? "open" : onStoreFailure;
    requests = requests == null ? new Requests(null, null, null, null) : requests;
    budgets = budgets == null ? new Budgets(null, null) : budgets;
    if (maxCostPerMinute != null) {
      Budget p = budgets.perPrincipal() == null ? new Budget(null, null, null, null, null, null) : budgets.perPrincipal();
      budgets = new Budgets(new Budget(p.tokensPerMinute(), p.tokensPerHour(), p.tokensPerDay(), maxCostPerMinute,
          p.costPerHour(), p.costPerDay()), budgets.perLease());
    }
    overrides = overrides == null ? new Overrides(null, null) : overrides;
    pricing = pricing == null ? Map.of() : pricing;
    defaultMaxTokens = defaultMaxTokens == null ? 1024 : defaultMaxTokens;
    noUsageChargeTokens = noUsageChargeTokens == null ? 0 : noUsageChargeTokens;
    injectStreamUsage = injectStreamUsage == null || injectStreamUsage;
    abandonedStreamTimeout = abandonedStreamTimeout == null ? Duration.ofSeconds(30) : abandonedStreamTimeout;
    maxInspectBytes = maxInspectBytes == null ? 1024 * 1024 : maxInspectBytes;
    reportPrincipals = reportPrincipals == null ? List.of() : List.copyOf(reportPrincipals);
  }

  /** @return whether any budget is configured, so requests must be inspected and responses metered */
  boolean hasBudgets() {
    return nonEmpty(budgets.perPrincipal()) || nonEmpty(budgets.perLease())
        || overrides.principals().values().stream().anyMatch(o -> nonEmpty(o.budget()))
        || overrides.leases().values().stream().anyMatch(o -> nonEmpty(o.budget()));
  }

  private static boolean nonEmpty(Budget b) {
    return b != null && !b.isEmpty();
  }

  /**
   * Binds and checks the settings.
   *
   * @throws InvalidConfigException naming the key and the problem
   */
  static RateLimitSettings from(PluginConfig config) throws InvalidConfigException {
    RateLimitSettings s = config.bind(RateLimitSettings.class);
    String p = config.path();
    List<String> errors = new ArrayList<>();
    if (s.type() != null && !List.of("token_cost", "requests").contains(s.type())) {
      errors.add(p + ".type: '" + s.type() + "' is not token_cost or requests (the key is optional)");
    }
    if (!List.of("local", "redis").contains(s.store())) {
      errors.add(p + ".store: '" + s.store() + "' is not local or redis");
    }
    if (!List.of("open", "closed").contains(s.onStoreFailure())) {
      errors.add(p + ".on_store_failure: '" + s.onStoreFailure() + "' is not open (let requests through) or closed (refuse them)");
    }
    rate(errors, p + ".requests.global", s.requests().global());
    rate(errors, p + ".requests.per_client_ip", s.requests().perClientIp());
    rate(errors, p + ".requests.per_principal", s.requests().perPrincipal());
    rate(errors, p + ".requests.per_lease", s.requests().perLease());
    budget(errors, p + ".budgets.per_principal", s.budgets().perPrincipal());
    budget(errors, p + ".budgets.per_lease", s.budgets().perLease());
    s.overrides().principals().forEach((id, o) -> override(errors, p + ".overrides.principals." + id, o));
    s.overrides().leases().forEach((id, o) -> override(errors, p + ".overrides.leases." + id, o));
    if (s.defaultMaxTokens() < 1) {
      errors.add(p + ".default_max_tokens: must be at least 1");
    }
    if (s.noUsageChargeTokens() < 0) {
      errors.add(p + ".no_usage_charge_tokens: must not be negative");
    }
    if (s.abandonedStreamTimeout().isNegative()) {
      errors.add(p + ".abandoned_stream_timeout: must not be negative");
    }
    if (s.maxInspectBytes() < 1024) {
      errors.add(p + ".max_inspect_bytes: must be at least 1KiB");
    }
    try {
      Pricing.of(s.pricing(), p + ".pricing");
    } catch (IllegalArgumentException e) {
      errors.add(e.getMessage());
    }
    if (!errors.isEmpty()) {
      throw new InvalidConfigException(String.join("; ", errors));
    }
    return s;
  }

  private static void override(List<String> errors, String key, Override o) {
    if (o == null || (o.requests() == null && o.budget() == null)) {
      errors.add(key + ": give requests: and/or budget:");
      return;
    }
    rate(errors, key + ".requests", o.requests());
    budget(errors, key + ".budget", o.budget());
  }

  private static void rate(List<String> errors, String key, Rate r) {
    if (r == null) {
      return;
    }
    if (r.ratePerSecond() == null || !(r.ratePerSecond() > 0)) {
      errors.add(key + ".rate_per_second: set a rate above 0, such as 20");
    }
    if (r.burst() != null && r.burst() < 1) {
      errors.add(key + ".burst: must be at least 1");
    }
  }

  private static void budget(List<String> errors, String key, Budget b) {
    if (b == null) {
      return;
    }
    for (var e : Map.of("tokens_per_minute", nz(b.tokensPerMinute()), "tokens_per_hour", nz(b.tokensPerHour()),
        "tokens_per_day", nz(b.tokensPerDay())).entrySet()) {
      if (e.getValue() < 0) {
        errors.add(key + "." + e.getKey() + ": must not be negative");
      }
    }
    for (var e : Map.of("cost_per_minute", nz(b.costPerMinute()), "cost_per_hour", nz(b.costPerHour()),
        "cost_per_day", nz(b.costPerDay())).entrySet()) {
      if (e.getValue() < 0 || e.getValue().isNaN()) {
        errors.add(key + "." + e.getKey() + ": must not be negative");
      }
    }
  }

  private static long nz(Long v) {
    return v == null ? 0 : v;
  }

  private static double nz(Double v) {
    return v == null ? 0 : v;
  }

  /** @return the windows of a budget, each with its limit in store units (tokens, or micro-units of money) */
  static List<Window> windows(Budget b) {
    List<Window> w = new ArrayList<>();
    if (b == null) {
      return w;
    }
    add(w, "tokens", "minute", Duration.ofMinutes(1), b.tokensPerMinute());
    add(w, "tokens", "hour", Duration.ofHours(1), b.tokensPerHour());
    add(w, "tokens", "day", Duration.ofDays(1), b.tokensPerDay());
    addCost(w, "minute", Duration.ofMinutes(1), b.costPerMinute());
    addCost(w, "hour", Duration.ofHours(1), b.costPerHour());
    addCost(w, "day", Duration.ofDays(1), b.costPerDay());
    return w;
  }

  /**
   * One budget window.
   *
   * @param unit {@code tokens} or {@code cost}
   * @param name {@code minute}, {@code hour} or {@code day}
   * @param length the window
   * @param limit the limit in store units: tokens, or money in millionths
   */
  record Window(String unit, String name, Duration length, long limit) {}

  private static void add(List<Window> w, String unit, String name, Duration d, Long limit) {
    if (limit != null) {
      w.add(new Window(unit, name, d, limit));
    }
  }

  private static void addCost(List<Window> w, String name, Duration d, Double limit) {
    if (limit != null) {
      w.add(new Window("cost", name, d, Pricing.toMicros(limit)));
    }
  }
}
