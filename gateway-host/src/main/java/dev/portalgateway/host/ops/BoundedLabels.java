package dev.portalgateway.host.ops;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Keeps the values of one metric label dimension bounded: at most {@code limit} distinct values at
 * a time, anything beyond shown as {@link #OTHER}, and values unused for a while forgotten (their
 * series removed), so slots free up again. Each value is one more time series per metric it is
 * used in, and names come from clients (a route in a URL) or from a public relay that lists
 * whatever anyone registers: neither is a bound by itself.
 */
public final class BoundedLabels {
  /** The value every label past the limit is shown as. */
  public static final String OTHER = "other";
  /** Last use is written at most this often per value, so a hot value costs a read, not a write. */
  private static final long TOUCH_NANOS = 1_000_000_000L;

  private final int limit;
  private final Map<String, Long> lastUsed = new ConcurrentHashMap<>();

  /** @param limit the most distinct values kept at a time */
  public BoundedLabels(int limit) {
    this.limit = limit;
  }

  /**
   * @param value a label value
   * @return {@code value} while it has (or gets) one of the slots, else {@link #OTHER}
   */
  public String label(String value) {
    long now = System.nanoTime();
    Long seen = lastUsed.get(value);
    if (seen != null) {
      if (now - seen > TOUCH_NANOS) {
        lastUsed.put(value, now);
      }
      return value;
    }
    if (lastUsed.size() >= limit) {
      return OTHER;
    }
    // Racing requests may take a few slots past the limit at once; the next ones see the size.
    lastUsed.putIfAbsent(value, now);
    return value;
  }

  /** @return the values holding a slot now */
  public List<String> values() {
    return List.copyOf(lastUsed.keySet());
  }

  /**
   * Forgets values unused for {@code idleNanos}, except those {@code inUse} still holds, telling
   * {@code forget} each one so it removes its series. Call it now and again (the gateway's timer
   * does, every minute).
   */
  public void forgetIdle(long idleNanos, java.util.function.Predicate<String> inUse, Consumer<String> forget) {
    long now = System.nanoTime();
    for (Map.Entry<String, Long> e : lastUsed.entrySet()) {
      if (now - e.getValue() > idleNanos && !inUse.test(e.getKey()) && lastUsed.remove(e.getKey(), e.getValue())) {
        forget.accept(e.getKey());
      }
    }
  }
}
