package dev.portalgateway.plugins.ratelimit;

/**
 * One token bucket a request takes from.
 *
 * @param key the bucket, such as {@code "req:ip:192.0.2.1"}; the store adds its own prefix
 * @param ratePerSecond tokens added per second, &gt; 0
 * @param burst the bucket's capacity, ≥ 1; a new bucket starts full
 */
record RateBucket(String key, double ratePerSecond, long burst) {}
