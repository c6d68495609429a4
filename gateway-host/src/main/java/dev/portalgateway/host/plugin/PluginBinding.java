package dev.portalgateway.host.plugin;

import dev.portalgateway.api.Phase;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which of one plugin's filters serves each route: the one for its default configuration, or the
 * one for the most specific of its {@code routes:} keys that matches the route's name. An exact
 * name beats every pattern; among patterns, the one with more characters other than {@code *}
 * wins, and then the one listed first.
 */
public final class PluginBinding {
  private final String plugin;
  private final Phase phase;
  private final ActiveFilter fallback;
  private final Map<String, RouteOverride> exact = new HashMap<>();
  private final List<RouteOverride> patterns = new ArrayList<>();

  /**
   * A route key's filter.
   *
   * @param key the route name or pattern
   * @param filter the filter for those routes, or {@code null} when the plugin is off for them
   */
  public record RouteOverride(String key, ActiveFilter filter) {}

  /**
   * @param fallback the filter for routes no key matches, or {@code null} when the plugin is off by default
   * @param overrides the route keys in configuration order
   */
  PluginBinding(String plugin, Phase phase, ActiveFilter fallback, List<RouteOverride> overrides) {
    this.plugin = plugin;
    this.phase = phase;
    this.fallback = fallback;
    for (RouteOverride o : overrides) {
      if (o.key().indexOf('*') < 0) {
        exact.put(o.key(), o);
      } else {
        patterns.add(o);
      }
    }
    // Stable sort: equally specific patterns keep their configuration order.
    patterns.sort(Comparator.comparingInt((RouteOverride o) -> literalLength(o.key())).reversed());
  }

  /** @return the plugin's name */
  public String plugin() {
    return plugin;
  }

  /** @return the plugin's phase */
  public Phase phase() {
    return phase;
  }

  /** @return whether the plugin has any per-route configuration */
  public boolean hasRouteKeys() {
    return !exact.isEmpty() || !patterns.isEmpty();
  }

  /** @return whether some route key is a pattern, so that names not listed may still match one */
  public boolean hasPatterns() {
    return !patterns.isEmpty();
  }

  /** @return the exact route names this plugin configures */
  public java.util.Set<String> exactRoutes() {
    return exact.keySet();
  }

  /**
   * @param route a route name from a request
   * @return the plugin's filter for it, or {@code null} when the plugin is off for it
   */
  public ActiveFilter forRoute(String route) {
    RouteOverride o = exact.get(route);
    if (o != null) {
      return o.filter();
    }
    for (RouteOverride p : patterns) {
      if (matches(p.key(), route)) {
        return p.filter();
      }
    }
    return fallback;
  }

  private static int literalLength(String pattern) {
    int n = 0;
    for (int i = 0; i < pattern.length(); i++) {
      if (pattern.charAt(i) != '*') {
        n++;
      }
    }
    return n;
  }

  /** Glob matching where {@code *} stands for any run of characters, the empty one included. */
  static boolean matches(String pattern, String name) {
    int p = 0;
    int n = 0;
    int star = -1;
    int resume = 0;
    while (n < name.length()) {
      if (p < pattern.length() && pattern.charAt(p) != '*' && pattern.charAt(p) == name.charAt(n)) {
        p++;
        n++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        resume = n;
      } else if (star >= 0) {
        p = star + 1;
        n = ++resume;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }
}
