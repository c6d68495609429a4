package dev.portalgateway.host.plugin;

import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.host.ops.BoundedLabels;
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

  /** Series (combinations of label values) one plugin metric has at a time; more are all {@code other}. */
  static final int MAX_SERIES_PER_METRIC = 500;
  /** A series unused this long is removed and frees its place. */
  static final java.time.Duration SERIES_IDLE = java.time.Duration.ofHours(1);
  private static final String SEPARATOR = "\u0000";

  /**
   * A collector with the label names it was registered with, and the bound on its series: labels
   * like a model name come from requests, so a plugin's metric must not grow without limit.
   */
  record Registered(Collector collector, java.util.List<String> labelNames, BoundedLabels series) {
    Registered(Collector collector, java.util.List<String> labelNames) {
      this(collector, labelNames, new BoundedLabels(MAX_SERIES_PER_METRIC));
    }

    /** @return the label values to record under: these, or all {@code other} past the bound */
    String[] bound(String[] labelValues) {
      if (labelValues.length == 0) {
        return labelValues;
      }
      String key = labelValues.length == 1 ? labelValues[0] : String.join(SEPARATOR, labelValues);
      if (series.label(key) != BoundedLabels.OTHER) {
        return labelValues;
      }
      String[] other = new String[labelValues.length];
      java.util.Arrays.fill(other, BoundedLabels.OTHER);
      return other;
    }

    /** Removes the series unused for {@link #SERIES_IDLE}. */
    void forgetIdle() {
      if (labelNames.isEmpty()) {
        return;
      }
      series.forgetIdle(SERIES_IDLE.toNanos(), key -> false, key -> {
        if (collector instanceof io.prometheus.client.SimpleCollector<?> simple) {
          simple.remove(labelNames.size() == 1 ? new String[] {key} : key.split(SEPARATOR, -1));
        }
      });
    }
  }

  /** Removes, in every plugin metric of {@code store}, the series unused for {@link #SERIES_IDLE}. */
  static void forgetIdle(Map<String, Registered> store) {
    store.values().forEach(Registered::forgetIdle);
  }

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
    Registered r = get(name, labelNames, io.prometheus.client.Counter.class,
        () -> io.prometheus.client.Counter.build(prefix + name, help).labelNames(labelNames).register(registry));
    io.prometheus.client.Counter c = (io.prometheus.client.Counter) r.collector();
    return new Counter() {
      @Override
      public void inc(String... labelValues) {
        c.labels(r.bound(labelValues)).inc();
      }

      @Override
      public void add(double amount, String... labelValues) {
        c.labels(r.bound(labelValues)).inc(amount);
      }
    };
  }

  @Override
  public Gauge gauge(String name, String help, String... labelNames) {
    Registered r = get(name, labelNames, io.prometheus.client.Gauge.class,
        () -> io.prometheus.client.Gauge.build(prefix + name, help).labelNames(labelNames).register(registry));
    io.prometheus.client.Gauge g = (io.prometheus.client.Gauge) r.collector();
    return new Gauge() {
      @Override
      public void set(double value, String... labelValues) {
        g.labels(r.bound(labelValues)).set(value);
      }

      @Override
      public void add(double delta, String... labelValues) {
        g.labels(r.bound(labelValues)).inc(delta);
      }
    };
  }

  @Override
  public Histogram histogram(String name, String help, String... labelNames) {
    Registered r = get(name, labelNames, io.prometheus.client.Histogram.class,
        () -> io.prometheus.client.Histogram.build(prefix + name, help).labelNames(labelNames).buckets(BUCKETS)
            .register(registry));
    io.prometheus.client.Histogram h = (io.prometheus.client.Histogram) r.collector();
    return (value, labelValues) -> h.labels(r.bound(labelValues)).observe(value);
  }

  private <T extends Collector> Registered get(String name, String[] labelNames, Class<T> type, Supplier<T> create) {
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
    return r;
  }
}
