package dev.portalgateway.host.runtime;

import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.plugin.PluginBinding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The chain each route runs in one generation. Without per-route plugin configuration there is one
 * chain for every route. With it, the chains of the route names the configuration lists are built
 * up front, and a name that only a pattern matches finds its chain by the combination of filters
 * it gets: there are at most as many chains as distinct combinations, however many names clients
 * send.
 */
final class RouteChains {
  private final List<PluginBinding> bindings;
  private final RouteTable routes;
  private final FilterChain fallback;
  private final Map<String, FilterChain> listed;
  private final boolean patterns;
  private final Map<List<ActiveFilter>, FilterChain> byFilters = new ConcurrentHashMap<>();

  RouteChains(List<PluginBinding> bindings, RouteTable routes) {
    this.bindings = bindings;
    this.routes = routes;
    this.patterns = bindings.stream().anyMatch(PluginBinding::hasPatterns);
    // A name no key matches: every plugin's default filter.
    this.fallback = chainOf(select("\\0no route key matches this"));
    Map<String, FilterChain> named = new HashMap<>();
    for (PluginBinding b : bindings) {
      for (String route : b.exactRoutes()) {
        named.computeIfAbsent(route, r -> chainOf(select(r)));
      }
    }
    this.listed = Map.copyOf(named);
  }

  /** @return the chain for requests to {@code route} */
  FilterChain forRoute(String route) {
    if (listed.isEmpty() && !patterns) {
      return fallback; // the common case: one chain for all
    }
    FilterChain c = listed.get(route);
    if (c != null) {
      return c;
    }
    return patterns ? chainOf(select(route)) : fallback;
  }

  private List<ActiveFilter> select(String route) {
    List<ActiveFilter> filters = new ArrayList<>(bindings.size());
    for (PluginBinding b : bindings) {
      ActiveFilter f = b.forRoute(route);
      if (f != null) {
        filters.add(f);
      }
    }
    return filters;
  }

  private FilterChain chainOf(List<ActiveFilter> filters) {
    FilterChain c = byFilters.get(filters);
    return c != null ? c : byFilters.computeIfAbsent(List.copyOf(filters), f -> new FilterChain(f, routes));
  }
}
