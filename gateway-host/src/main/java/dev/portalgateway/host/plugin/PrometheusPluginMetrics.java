package dev.portalgateway.host.plugin;

import dev.portalgateway.api.PluginMetrics;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@link PluginMetrics} on Prometheus simpleclient. Collectors are kept per full name for the
 * gateway's lifetime, so the filters a reload re-creates find the series their predecessors
 * registered instead of failing on a duplicate registration.
 */
final class PrometheusPluginMetrics implements PluginMetrics {
  private static final double[] BUCKETS = {.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60};

  private final String prefix;
  private final CollectorRegistry registry;
  private final Map<String, Registered> collectors;

  /** A collector with the label names it was registered with. */
  record Registered(Collector collector, java.util.List<String> labelNames) {}

  PrometheusPluginMetrics(String pluginName, CollectorRegistry registry, Map<String, Registered> collectors) {
    this.prefix = "portal_gateway_" + pluginName.replace('-', '_') + "_";
    this.registry = registry;
    this.collectors = collectors;
  }

  /** Creates the shared store of collectors that every plugin's metrics register into. */
  static Map<String, Registered> newStore() {
    return new ConcurrentHashMap<>();
  }

  @Override
  public Counter counter(String name, String help, String... labelNames) {
    io.prometheus.client.Counter c = get(name, labelNames, io.prometheus.client.Counter.class,
        () -> io.prometheus.client.Counter.build(prefix + name, help).labelNames(labelNames).register(registry));
    return new Counter() {
      @Override
      public void inc(String... labelValues) {
        c.labels(labelValues).inc();
      }

      @Override
      public void add(double amount, String... labelValues) {
        c.labels(labelValues).inc(amount);
      }
    };
  }

  @Override
  public Gauge gauge(String name, String help, String... labelNames) {
    io.prometheus.client.Gauge g = get(name, labelNames, io.prometheus.client.Gauge.class,
        () -> io.prometheus.client.Gauge.build(prefix + name, help).labelNames(labelNames).register(registry));
    return new Gauge() {
      @Override
      public void set(double value, String... labelValues) {
        g.labels(labelValues).set(value);
      }

      @Override
      public void add(double delta, String... labelValues) {
        g.labels(labelValues).inc(delta);
      }
    };
  }

  @Override
  public Histogram histogram(String name, String help, String... labelNames) {
    io.prometheus.client.Histogram h = get(name, labelNames, io.prometheus.client.Histogram.class,
        () -> io.prometheus.client.Histogram.build(prefix + name, help).labelNames(labelNames).buckets(BUCKETS)
            .register(registry));
    return (value, labelValues) -> h.labels(labelValues).observe(value);
  }

  private <T extends Collector> T get(String name, String[] labelNames, Class<T> type, Supplier<T> create) {
    java.util.List<String> labels = java.util.List.of(labelNames);
    Registered r = collectors.computeIfAbsent(prefix + name, k -> new Registered(create.get(), labels));
    // Checked here, when the filter is created, rather than failing inside a request later.
    if (!type.isInstance(r.collector())) {
      throw new IllegalArgumentException("metric " + prefix + name + " is already registered as a "
          + r.collector().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT));
    }
    if (!r.labelNames().equals(labels)) {
      throw new IllegalArgumentException("metric " + prefix + name + " is already registered with labels "
          + r.labelNames() + ", not " + labels);
    }
    return type.cast(r.collector());
  }
}
