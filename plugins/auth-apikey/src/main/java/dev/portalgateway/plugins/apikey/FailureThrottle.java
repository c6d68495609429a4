package dev.portalgateway.plugins.apikey;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts failed authentications per client address in a fixed window, so that nobody can make
 * the gateway run bcrypt for every guess. IPv6 clients are counted per /64, since one host
 * commonly holds a whole /64 and could otherwise step through addresses.
 */
final class FailureThrottle {
  private final int limit;
  private final Duration window;
  private final Cache<InetAddress, AtomicInteger> failures;

  /**
   * @param limit failures allowed per window; 0 turns the throttle off
   * @param window how long failures count, from the first one
   */
  FailureThrottle(int limit, Duration window) {
    this(limit, window, Ticker.systemTicker());
  }

  /** @param ticker the time source of the window; tests pass their own */
  FailureThrottle(int limit, Duration window, Ticker ticker) {
    this.limit = limit;
    this.window = window;
    // Written once per window (the counter is incremented in place), so this expires the window.
    this.failures = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(window).ticker(ticker).build();
  }

  /** @return whether {@code client} has used up its failures for this window */
  boolean blocked(InetAddress client) {
    if (limit <= 0) {
      return false;
    }
    AtomicInteger n = failures.getIfPresent(bucket(client));
    return n != null && n.get() >= limit;
  }

  /**
   * Counts one failure.
   *
   * @return whether this failure used up the client's allowance, for one audit line per window
   */
  boolean recordFailure(InetAddress client) {
    if (limit <= 0) {
      return false;
    }
    return failures.get(bucket(client), k -> new AtomicInteger()).incrementAndGet() == limit;
  }

  /** @return seconds a blocked client should wait, for {@code Retry-After} */
  long retryAfterSeconds() {
    return Math.max(1, window.toSeconds());
  }

  private static InetAddress bucket(InetAddress client) {
    if (!(client instanceof Inet6Address)) {
      return client;
    }
    byte[] a = client.getAddress();
    java.util.Arrays.fill(a, 8, 16, (byte) 0);
    try {
      return InetAddress.getByAddress(a);
    } catch (UnknownHostException e) {
      return client; // cannot happen for 16 bytes
    }
  }
}
