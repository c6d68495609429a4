package dev.portalgateway.plugins.ratelimit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Prices per model, per 1,000 tokens, in whatever currency the budgets use. A model is matched
 * exactly, then by the longest configured prefix ({@code gpt-4o} prices {@code gpt-4o-2024-08-06}),
 * then by {@code default}; with no default, unknown models are free (never blocked by a money budget).
 *
 * <p>Money is counted in millionths (micro-units) so stores add integers, also in Redis.
 */
final class Pricing {
  /** The price of one model. {@code name} is what metrics show: the configured name, or "other". */
  record Price(String name, double inputPer1k, double outputPer1k) {
    boolean isFree() {
      return inputPer1k == 0 && outputPer1k == 0;
    }

    /** @return the cost of these tokens in micro-units */
    long micros(long inputTokens, long outputTokens) {
      return toMicros((inputTokens * inputPer1k + outputTokens * outputPer1k) / 1000.0);
    }
  }

  static final Price FREE = new Price("other", 0, 0);

  private final Map<String, Price> exact;
  private final List<Price> byLongestPrefix;
  private final Price fallback;

  private Pricing(Map<String, Price> exact, Price fallback) {
    this.exact = exact;
    this.byLongestPrefix = exact.values().stream()
        .sorted(Comparator.comparingInt((Price p) -> p.name().length()).reversed()).toList();
    this.fallback = fallback;
  }

  /**
   * @param table model name to a number (the same price in and out) or
   *     {@code {input_per_1k, output_per_1k}}; the key {@code default} prices unknown models
   * @param path the key path, for messages
   * @throws IllegalArgumentException naming the bad entry
   */
  static Pricing of(Map<String, Object> table, String path) {
    Map<String, Price> exact = new java.util.HashMap<>();
    Price fallback = FREE;
    for (var e : table.entrySet()) {
      Price p = price(e.getKey().equals("default") ? "other" : e.getKey(), e.getValue(), path + "." + e.getKey());
      if (e.getKey().equals("default")) {
        fallback = p;
      } else {
        exact.put(e.getKey(), p);
      }
    }
    return new Pricing(Map.copyOf(exact), fallback);
  }

  private static Price price(String name, Object v, String key) {
    if (v instanceof Number n) {
      return checked(new Price(name, n.doubleValue(), n.doubleValue()), key);
    }
    if (v instanceof String s) {
      try {
        double d = Double.parseDouble(s.trim());
        return checked(new Price(name, d, d), key);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + ": '" + s + "' is not a price");
      }
    }
    if (v instanceof Map<?, ?> m) {
      List<String> unknown = new ArrayList<>();
      for (Object k : m.keySet()) {
        if (!"input_per_1k".equals(k) && !"output_per_1k".equals(k)) {
          unknown.add(String.valueOf(k));
        }
      }
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException(key + ": unknown keys " + unknown + "; use input_per_1k and output_per_1k");
      }
      return checked(new Price(name, number(m.get("input_per_1k"), key + ".input_per_1k"),
          number(m.get("output_per_1k"), key + ".output_per_1k")), key);
    }
    throw new IllegalArgumentException(key + ": give a price per 1K tokens, such as 0.03, or {input_per_1k: 0.0025, output_per_1k: 0.01}");
  }

  private static double number(Object v, String key) {
    if (v == null) {
      return 0;
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    try {
      return Double.parseDouble(String.valueOf(v).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + ": '" + v + "' is not a price");
    }
  }

  private static Price checked(Price p, String key) {
    if (!(p.inputPer1k() >= 0) || !(p.outputPer1k() >= 0) || Double.isInfinite(p.inputPer1k())
        || Double.isInfinite(p.outputPer1k())) {
      throw new IllegalArgumentException(key + ": prices must be 0 or more");
    }
    return p;
  }

  /** @return the price of {@code model}; {@code null} models get the default */
  Price of(String model) {
    if (model == null) {
      return fallback;
    }
    Price p = exact.get(model);
    if (p != null) {
      return p;
    }
    for (Price candidate : byLongestPrefix) {
      if (model.startsWith(candidate.name())) {
        return candidate;
      }
    }
    return fallback;
  }

  /** @return {@code amount} of money in micro-units, rounded up so that costs are never undercounted */
  static long toMicros(double amount) {
    return (long) Math.ceil(amount * 1_000_000 - 1e-6);
  }

  /** @return micro-units as money */
  static double fromMicros(long micros) {
    return micros / 1_000_000.0;
  }
}
