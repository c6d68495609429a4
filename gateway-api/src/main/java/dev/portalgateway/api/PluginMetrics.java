package dev.portalgateway.api;

/**
 * Metrics scoped to one plugin, exported on the gateway's Prometheus endpoint as
 * {@code portal_gateway_<plugin>_<name>} (dashes in the plugin name become underscores).
 *
 * <p>Use base units ({@code _seconds}, {@code _bytes}) and {@code _total} for counters, and only
 * low-cardinality labels: a lease name or an outcome, never a key, a user or a client IP. The
 * gateway bounds each metric all the same (500 series at a time; past that, new combinations of
 * label values are counted under {@code other}, and series unused for an hour are removed), so a
 * label taken from requests cannot grow the metrics without limit.
 * Asking twice for the same name returns the same metric, so filters re-created by a
 * configuration reload keep counting where the previous ones stopped.
 */
public interface PluginMetrics {

  /** A value that only goes up. */
  interface Counter {
    /** Adds one to the series with these label values. */
    void inc(String... labelValues);

    /** Adds {@code amount} (≥ 0) to the series with these label values. */
    void add(double amount, String... labelValues);
  }

  /** A value that goes up and down. */
  interface Gauge {
    /** Sets the series with these label values. */
    void set(double value, String... labelValues);

    /** Adds {@code delta} (may be negative) to the series with these label values. */
    void add(double delta, String... labelValues);
  }

  /** A distribution of observed values, such as durations in seconds. */
  interface Histogram {
    /** Records one observation in the series with these label values. */
    void observe(double value, String... labelValues);
  }

  /**
   * @param name the metric name after the plugin prefix, ending in {@code _total}
   * @param help what it counts
   * @param labelNames the label names, possibly none
   * @return the counter
   */
  Counter counter(String name, String help, String... labelNames);

  /**
   * @param name the metric name after the plugin prefix
   * @param help what it measures
   * @param labelNames the label names, possibly none
   * @return the gauge
   */
  Gauge gauge(String name, String help, String... labelNames);

  /**
   * A histogram with buckets suited to durations from a millisecond to a minute.
   *
   * @param name the metric name after the plugin prefix, ending in a base unit such as {@code _seconds}
   * @param help what it measures
   * @param labelNames the label names, possibly none
   * @return the histogram
   */
  Histogram histogram(String name, String help, String... labelNames);
}
