package dev.portalgateway.plugins.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.portalgateway.api.Headers;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The stored answers, bounded by their total size in bytes, each expiring after its own time to
 * live; and the answers being fetched right now, so that identical requests that miss together
 * wait for one upstream call instead of making one each (single flight).
 */
final class ResponseCache {
  /** A stored answer. */
  sealed interface Entry permits McpEntry, HttpEntry {
    /** @return the bytes it holds, for the size bound */
    int weight();

    /** @return how long it is kept */
    Duration ttl();
  }

  /**
   * The {@code result} of a JSON-RPC answer, as the server wrote it.
   *
   * @param result the bytes of the result value
   * @param ttl how long it is kept
   */
  record McpEntry(byte[] result, Duration ttl) implements Entry {
    @Override
    public int weight() {
      return result.length + 64;
    }
  }

  /**
   * A plain HTTP answer.
   *
   * @param status its status
   * @param headers its end-to-end headers
   * @param body its body
   * @param storedAtMillis when it was stored
   * @param initialAgeSeconds the {@code Age} it had when it arrived
   * @param ttl how long it is fresh from {@code storedAtMillis}
   * @param vary the request headers it was chosen by (lower-case names to values)
   */
  record HttpEntry(int status, Headers headers, byte[] body, long storedAtMillis, long initialAgeSeconds, Duration ttl,
      Map<String, String> vary) implements Entry {
    @Override
    public int weight() {
      int h = 0;
      for (int i = 0; i < headers.size(); i++) {
        h += headers.name(i).length() + headers.value(i).length() + 4;
      }
      return body.length + h + 64;
    }
  }

  /** One request's part in a single flight. */
  sealed interface Flight permits Leader, Follower {}

  /** The first request: it fetches and must {@link ResponseCache#land} its answer, or null. */
  record Leader(String key, CompletableFuture<Entry> outcome) implements Flight {}

  /** A later identical request: it waits for the leader's answer. */
  record Follower(CompletableFuture<Entry> outcome) implements Flight {}

  private final Cache<String, Entry> entries;
  private final ConcurrentHashMap<String, CompletableFuture<Entry>> inflight = new ConcurrentHashMap<>();

  /**
   * @param maxBytes the most bytes all entries hold together
   * @param onEviction told the cause of every entry evicted for size or expiry
   */
  ResponseCache(long maxBytes, Consumer<RemovalCause> onEviction) {
    this.entries = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String key, Entry e) -> key.length() * 2 + e.weight())
        .expireAfter(new Expiry<String, Entry>() {
          @Override
          public long expireAfterCreate(String key, Entry e, long now) {
            return e.ttl().toNanos();
          }

          @Override
          public long expireAfterUpdate(String key, Entry e, long now, long current) {
            return e.ttl().toNanos();
          }

          @Override
          public long expireAfterRead(String key, Entry e, long now, long current) {
            return current;
          }
        })
        .removalListener((String key, Entry e, RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            onEviction.accept(cause);
          }
        })
        .build();
  }

  /** @return the entry for {@code key}, or {@code null} */
  Entry get(String key) {
    return entries.getIfPresent(key);
  }

  /**
   * Joins the flight for {@code key}: the first caller leads, the others follow until the leader
   * lands.
   */
  Flight join(String key) {
    CompletableFuture<Entry> mine = new CompletableFuture<>();
    CompletableFuture<Entry> existing = inflight.putIfAbsent(key, mine);
    return existing == null ? new Leader(key, mine) : new Follower(existing);
  }

  /**
   * Ends a flight: stores the leader's answer (when there is one) before the followers wake, so
   * that a request arriving just after finds it stored.
   *
   * @param entry the answer to store and hand to the followers; {@code null} when it is not cacheable
   */
  void land(Leader leader, Entry entry) {
    if (entry != null) {
      entries.put(leader.key(), entry);
    }
    leader.outcome().complete(entry);
    inflight.remove(leader.key(), leader.outcome());
  }

  /**
   * @return the leader's answer, or {@code null} when it was not cacheable, failed, or took longer
   *     than {@code timeout} (the follower then goes upstream itself)
   */
  static Entry await(Follower follower, Duration timeout) {
    try {
      return follower.outcome().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException | TimeoutException e) {
      return null;
    }
  }

  /** Drops every entry whose key starts with {@code prefix}; returns how many. */
  int invalidatePrefix(String prefix) {
    int[] n = {0};
    entries.asMap().keySet().removeIf(k -> {
      boolean match = k.startsWith(prefix);
      n[0] += match ? 1 : 0;
      return match;
    });
    return n[0];
  }

  /** Drops every entry; returns how many there were. */
  int invalidateAll() {
    entries.cleanUp(); // so that the count leaves out entries that expired but linger
    int n = (int) entries.estimatedSize();
    entries.invalidateAll();
    return n;
  }

  /** @return the bytes held, as weighed */
  long bytes() {
    return entries.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  /** @return how many entries are held */
  long size() {
    return entries.estimatedSize();
  }

  /** Changes the size bound, after a configuration reload. */
  void resize(long maxBytes) {
    entries.policy().eviction().ifPresent(e -> {
      if (e.getMaximum() != maxBytes) {
        e.setMaximum(maxBytes);
      }
    });
  }
}
