package dev.portalgateway.bench;

/**
 * Counts latencies in log-linear buckets: exact below 128 ns, then 128 buckets per power of two,
 * so any reported percentile is within 1% of the true value. A fixed array, unlike a list of
 * samples, costs nothing to record into and does not grow with the run's length, which keeps the
 * load generator's own allocation and GC out of the CPU it shares with the gateway.
 *
 * <p>Not thread-safe: each connection loop records into its own and they are merged at the end.
 */
final class LatencyHistogram {
  private static final int SUB_BUCKET_BITS = 7;
  private static final int SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
  /** Values up to 2^63 - 1 ns: the linear range plus one row of sub-buckets per higher power of two. */
  private static final int BUCKETS = SUB_BUCKETS + (63 - SUB_BUCKET_BITS) * SUB_BUCKETS;

  private final long[] counts = new long[BUCKETS];
  private long total;
  private long sum;
  private long max;

  /** @param nanos one latency; negative values (a clock step) count as zero */
  void record(long nanos) {
    long v = Math.max(0, nanos);
    counts[indexOf(v)]++;
    total++;
    sum += v;
    max = Math.max(max, v);
  }

  /** Adds every value {@code other} recorded. */
  void add(LatencyHistogram other) {
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    sum += other.sum;
    max = Math.max(max, other.max);
  }

  long count() {
    return total;
  }

  long maxNanos() {
    return max;
  }

  double meanNanos() {
    return total == 0 ? 0 : (double) sum / total;
  }

  /**
   * @param percentile 0 to 100
   * @return the value at that percentile: the middle of its bucket, never above the maximum seen;
   *     0 when nothing was recorded
   */
  long percentileNanos(double percentile) {
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(max, middleOf(i));
      }
    }
    return max;
  }

  private static int indexOf(long v) {
    if (v < SUB_BUCKETS) {
      return (int) v;
    }
    int magnitude = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BUCKET_BITS here
    int shift = magnitude - SUB_BUCKET_BITS;
    int sub = (int) (v >>> shift) - SUB_BUCKETS; // the bits just below the top one
    return SUB_BUCKETS + shift * SUB_BUCKETS + sub;
  }

  private static long middleOf(int index) {
    if (index < SUB_BUCKETS) {
      return index;
    }
    int shift = (index - SUB_BUCKETS) / SUB_BUCKETS;
    long sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
    long low = (SUB_BUCKETS + sub) << shift;
    return low + ((1L << shift) >>> 1);
  }
}
