package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.redis.RedisEndpoint;
import java.time.Duration;

/**
 * How to reach the Redis server that holds the counters ({@code store: redis}), bound from
 * {@code redis: {url, connect_timeout, timeout, pool_size, key_prefix}}. Every key is optional.
 *
 * <p>A call to the store takes at most {@code timeout}, plus at most {@code connectTimeout} for each
 * connection it has to open (TCP, TLS, {@code AUTH}, {@code SELECT}): usually none, at most two (a
 * pooled connection found closed, say after a Redis restart, is replaced once). After a failure,
 * calls fail at once for a second instead.
 *
 * @param url {@code redis://[[user]:password@]host[:port][/db]}, or {@code rediss://} for TLS
 * @param connectTimeout the most time to spend opening one connection
 * @param timeout the most time one call waits for a free connection and Redis's answer
 * @param poolSize the most connections open at once
 * @param keyPrefix put before every key, so that several gateways (or other programs) can share a server
 */
record RedisSettings(String url, Duration connectTimeout, Duration timeout, Integer poolSize, String keyPrefix) {
  static final String DEFAULT_URL = "redis://127.0.0.1:6379";
  static final String DEFAULT_KEY_PREFIX = "portal-gateway:rl:";

  /**
   * Applies the defaults and checks the values.
   *
   * @throws IllegalArgumentException naming the key and what is wrong (never the password)
   */
  RedisSettings {
    url = url == null || url.isBlank() ? DEFAULT_URL : url.strip();
    connectTimeout = connectTimeout == null ? Duration.ofMillis(500) : connectTimeout;
    timeout = timeout == null ? Duration.ofMillis(200) : timeout;
    poolSize = poolSize == null ? 64 : poolSize;
    keyPrefix = keyPrefix == null ? DEFAULT_KEY_PREFIX : keyPrefix;
    try {
      RedisEndpoint.parse(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("url: " + e.getMessage(), e);
    }
    atLeastOneMillisecond(connectTimeout, "connect_timeout");
    atLeastOneMillisecond(timeout, "timeout");
    if (poolSize < 1) {
      throw new IllegalArgumentException("pool_size: must be at least 1");
    }
  }

  /** @return the settings with every default: a Redis on this machine */
  static RedisSettings defaults() {
    return new RedisSettings(null, null, null, null, null);
  }

  /**
   * @return {@code url} without its userinfo (user and password become {@code ***}), for logs and
   *     messages; works on URLs that do not parse too
   */
  static String redacted(String url) {
    return url == null ? null : RedisEndpoint.redact(url);
  }

  /** @return the parsed {@link #url()} */
  RedisEndpoint endpoint() {
    return RedisEndpoint.parse(url);
  }

  @Override
  public String toString() {
    // The record's own toString would print the URL with its password.
    return "RedisSettings[url=" + RedisEndpoint.redact(url) + ", connectTimeout=" + connectTimeout
        + ", timeout=" + timeout + ", poolSize=" + poolSize + ", keyPrefix=" + keyPrefix + "]";
  }

  private static void atLeastOneMillisecond(Duration d, String key) {
    // Socket timeouts count whole milliseconds, and 0 would mean "wait forever".
    if (d.toMillis() < 1) {
      throw new IllegalArgumentException(key + ": must be at least 1ms");
    }
  }
}
