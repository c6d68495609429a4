package dev.portalgateway.plugins.apikey;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.mindrot.jbcrypt.BCrypt;

/**
 * Checks presented secrets against bcrypt hashes, running bcrypt once per distinct key.
 *
 * <p>Results are cached by the SHA-256 of the presented key, so the cache never holds a key. A
 * result remembers which hashes it was computed against; when the keys file changes a key's
 * hash (a rotation, an edit), the old result no longer applies and the secret is checked again.
 * Wrong secrets are cached too, for a shorter time, so repeating a wrong key costs nothing.
 *
 * <p>bcrypt runs on a small pool of its own with a bounded queue: concurrent requests with the
 * same new key wait for one computation, and a flood of new keys is refused ({@link Busy})
 * instead of taking every core.
 */
final class KeyVerifier implements AutoCloseable {
  /**
   * What checking one presented key found.
   *
   * @param keyId the key id
   * @param checkedAgainst the hashes the secret was checked against (see {@link #fingerprint})
   * @param matchedHash the hash the secret matched, or {@code null} when it matched none
   */
  record Verdict(String keyId, String checkedAgainst, String matchedHash) {
    boolean matched() {
      return matchedHash != null;
    }
  }

  /** bcrypt is saturated; the request should be retried shortly. */
  static final class Busy extends Exception {
    Busy(String message) {
      super(message);
    }
  }

  private static final MessageDigest SHA256 = newSha256();

  private final AsyncCache<ByteBuffer, Verdict> cache;
  private final ThreadPoolExecutor bcrypt;
  private final Runnable onBcrypt;

  /**
   * @param maxEntries the most results to keep
   * @param ttl how long a matching result is kept
   * @param negativeTtl how long a wrong secret's result is kept
   * @param onBcrypt called for every bcrypt computation (a metric)
   */
  KeyVerifier(long maxEntries, Duration ttl, Duration negativeTtl, Runnable onBcrypt) {
    this.onBcrypt = onBcrypt;
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    this.bcrypt = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
      Thread t = new Thread(r, "auth-apikey-bcrypt");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
    this.bcrypt.allowCoreThreadTimeOut(true);
    long positive = ttl.toNanos();
    long negative = negativeTtl.toNanos();
    this.cache = Caffeine.newBuilder()
        .maximumSize(maxEntries)
        .expireAfter(new Expiry<ByteBuffer, Verdict>() {
          @Override
          public long expireAfterCreate(ByteBuffer key, Verdict v, long now) {
            return v.matched() ? positive : negative;
          }

          @Override
          public long expireAfterUpdate(ByteBuffer key, Verdict v, long now, long current) {
            return expireAfterCreate(key, v, now);
          }

          @Override
          public long expireAfterRead(ByteBuffer key, Verdict v, long now, long current) {
            return current;
          }
        })
        .buildAsync();
  }

  /**
   * @return the result for {@code key} if one is cached and still applies to {@code entry}, or
   *     {@code null} when checking it would need bcrypt
   */
  Verdict cached(ApiKey key, KeyRing.Entry entry) {
    CompletableFuture<Verdict> f = cache.getIfPresent(digest(key));
    if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
      return null;
    }
    Verdict v = f.join();
    return applies(v, key, entry) ? v : null;
  }

  /**
   * Checks {@code key}'s secret against {@code entry}'s hashes, from the cache when it can.
   *
   * @throws Busy when bcrypt is saturated
   */
  Verdict verify(ApiKey key, KeyRing.Entry entry) throws Busy {
    ByteBuffer digest = digest(key);
    for (int attempt = 0; attempt < 2; attempt++) {
      CompletableFuture<Verdict> f;
      try {
        f = cache.get(digest, (k, executor) -> CompletableFuture.supplyAsync(() -> check(key, entry), bcrypt));
      } catch (RejectedExecutionException e) {
        throw new Busy("too many API keys are being checked at once");
      }
      Verdict v;
      try {
        v = f.get(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Busy("interrupted while checking the API key");
      } catch (ExecutionException | TimeoutException e) {
        throw new Busy("checking the API key failed or took too long");
      }
      if (applies(v, key, entry)) {
        return v;
      }
      cache.asMap().remove(digest, f); // computed against hashes the file no longer has
    }
    return check(key, entry); // the file changed twice meanwhile: check directly
  }

  /** Forgets results for these key ids, after the keys file changed them. */
  void forget(Set<String> keyIds) {
    if (!keyIds.isEmpty()) {
      cache.synchronous().asMap().values().removeIf(v -> keyIds.contains(v.keyId()));
    }
  }

  @Override
  public void close() {
    bcrypt.shutdownNow();
    cache.synchronous().invalidateAll();
  }

  private static boolean applies(Verdict v, ApiKey key, KeyRing.Entry entry) {
    return v.keyId().equals(key.id()) && v.checkedAgainst().equals(fingerprint(entry.key()));
  }

  private Verdict check(ApiKey key, KeyRing.Entry entry) {
    StoredKey k = entry.key();
    String matched = null;
    if (matches(key.secret(), k.hash())) {
      matched = k.hash();
    } else if (k.previousHash() != null && matches(key.secret(), k.previousHash())) {
      matched = k.previousHash();
    }
    return new Verdict(key.id(), fingerprint(k), matched);
  }

  /** Both hashes a secret may match; a change to either makes earlier results stale. */
  private static String fingerprint(StoredKey k) {
    return k.previousHash() == null ? k.hash() : k.hash() + ' ' + k.previousHash();
  }

  /**
   * bcrypt's check, with the comparison done here in constant time whatever the library does.
   * jBCrypt writes {@code $2a$}; {@code $2b$} and {@code $2y$} (other tools' spellings of the same
   * algorithm for secrets this short) are read as {@code $2a$}.
   */
  private boolean matches(String secret, String hash) {
    onBcrypt.run();
    String normalized = hash.startsWith("$2b$") || hash.startsWith("$2y$") ? "$2a$" + hash.substring(4) : hash;
    String computed = BCrypt.hashpw(secret, normalized);
    return MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII), normalized.getBytes(StandardCharsets.US_ASCII));
  }

  /** @return the bcrypt hash of {@code secret} at {@code cost}, for the keys file */
  static String hash(String secret, int cost) {
    return BCrypt.hashpw(secret, BCrypt.gensalt(cost));
  }

  private static ByteBuffer digest(ApiKey key) {
    MessageDigest sha256;
    try {
      sha256 = (MessageDigest) SHA256.clone(); // cheaper than a provider lookup on every request
    } catch (CloneNotSupportedException e) {
      sha256 = newSha256();
    }
    return ByteBuffer.wrap(sha256.digest(key.text().getBytes(StandardCharsets.US_ASCII)));
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
