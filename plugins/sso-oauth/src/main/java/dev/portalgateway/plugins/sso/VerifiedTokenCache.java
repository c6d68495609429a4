package dev.portalgateway.plugins.sso;

import dev.portalgateway.plugins.sso.TokenVerifier.TokenKey;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The callers of tokens verified before, by token hash: at most {@code capacity} of them (plus
 * one per thread inserting at the same moment), none returned past its {@code exp}.
 *
 * <p>Why not Caffeine, as elsewhere in the project: this cache is read on every bearer request,
 * among thousands of entries that are rarely in the CPU's cache, and written once per token.
 * Caffeine's reads record each access for its eviction policy and drain that record under a lock
 * in the background, touching cold entries again; with 10,000 callers that cost about 4 µs of
 * gateway CPU per request, some 7 % of all it spends on a proxied request (docs/performance.md).
 * Here a read is one hash-map lookup. What is given up is the choice of what to evict when full:
 * expired entries go first, then about a tenth of the rest in the map's order, which for keys that
 * are SHA-256 values is no order a caller can steer; an evicted token costs one more signature
 * check.
 */
final class VerifiedTokenCache {
  private final ConcurrentHashMap<TokenKey, Caller> callers;
  private final int capacity;

  /** @param capacity most callers kept, at least 1 */
  VerifiedTokenCache(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.capacity = capacity;
    this.callers = new ConcurrentHashMap<>(Math.min(capacity, 1 << 16));
  }

  /** @return the caller of a token verified before and still unexpired at {@code nowMillis}, or {@code null} */
  Caller get(TokenKey key, long nowMillis) {
    Caller caller = callers.get(key);
    if (caller != null && caller.expiresAtMillis() <= nowMillis) {
      callers.remove(key, caller);
      return null;
    }
    return caller;
  }

  /** Remembers a verified token's caller, making room first when the cache is full. */
  void put(TokenKey key, Caller caller, long nowMillis) {
    if (callers.size() >= capacity) {
      makeRoom(nowMillis);
    }
    callers.put(key, caller);
  }

  /** @return how many callers are kept */
  int size() {
    return callers.size();
  }

  // One thread evicts at a time; the rest find room made when they get the lock. Each pass leaves
  // a tenth of the cache free, expired entries first, so the scan runs once per capacity/10 new
  // tokens, not once per token.
  private synchronized void makeRoom(long nowMillis) {
    if (callers.size() < capacity) {
      return;
    }
    callers.values().removeIf(c -> c.expiresAtMillis() <= nowMillis);
    int drop = callers.size() - (capacity - Math.max(1, capacity / 10));
    Iterator<TokenKey> keys = callers.keySet().iterator();
    while (drop > 0 && keys.hasNext()) {
      keys.next();
      keys.remove();
      drop--;
    }
  }
}
