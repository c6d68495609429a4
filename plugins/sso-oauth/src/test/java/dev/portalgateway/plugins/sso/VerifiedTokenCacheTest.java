package dev.portalgateway.plugins.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Principal;
import dev.portalgateway.plugins.sso.TokenVerifier.TokenKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class VerifiedTokenCacheTest {
  private static final long NOW = 1_800_000_000_000L;

  private static Caller caller(String subject, long expiresAtMillis) {
    return new Caller(new Principal(subject, subject, "sso-oauth", Set.of(), Map.of()), List.of("aud"), Set.of(),
        List.of(), expiresAtMillis);
  }

  @Test
  void aCallerIsFoundByItsTokensHashUntilItsExpiryAndNotAfter() {
    VerifiedTokenCache cache = new VerifiedTokenCache(10);
    TokenKey key = TokenKey.of("token-a");
    Caller alice = caller("alice", NOW + 1_000);
    cache.put(key, alice, NOW);

    assertThat(cache.get(TokenKey.of("token-a"), NOW + 999)).isSameAs(alice);
    assertThat(cache.get(TokenKey.of("token-b"), NOW)).isNull();
    assertThat(cache.get(key, NOW + 1_000)).isNull();
    assertThat(cache.size()).as("an expired caller is dropped when found").isZero();
  }

  @Test
  void aFullCacheDropsExpiredCallersBeforeLiveOnes() {
    VerifiedTokenCache cache = new VerifiedTokenCache(100);
    for (int i = 0; i < 50; i++) {
      cache.put(TokenKey.of("expiring-" + i), caller("e" + i, NOW + 10), NOW);
    }
    for (int i = 0; i < 50; i++) {
      cache.put(TokenKey.of("live-" + i), caller("l" + i, NOW + 60_000), NOW);
    }
    assertThat(cache.size()).isEqualTo(100);

    cache.put(TokenKey.of("new"), caller("new", NOW + 60_000), NOW + 20);

    assertThat(cache.size()).isEqualTo(51);
    for (int i = 0; i < 50; i++) {
      assertThat(cache.get(TokenKey.of("live-" + i), NOW + 20)).as("live-" + i).isNotNull();
    }
    assertThat(cache.get(TokenKey.of("new"), NOW + 20)).isNotNull();
  }

  @Test
  void aCacheFullOfLiveCallersMakesRoomForATenthAtOnceAndNeverHoldsMoreThanItsCapacity() {
    VerifiedTokenCache cache = new VerifiedTokenCache(1_000);
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      cache.put(TokenKey.of("token-" + i), caller("u" + i, NOW + 60_000), NOW);
      sizes.add(cache.size());
    }
    assertThat(sizes).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(1_000));
    assertThat(sizes.get(999)).isEqualTo(1_000);
    assertThat(sizes.get(1_000)).as("the put after the cache filled").isEqualTo(901);
    assertThat(cache.get(TokenKey.of("token-4999"), NOW)).as("the newest token is kept").isNotNull();
  }

  @Test
  void concurrentPutsOverflowByAtMostOnePerThread() throws Exception {
    int threads = 8;
    VerifiedTokenCache cache = new VerifiedTokenCache(500);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> largest = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        largest.add(pool.submit(() -> {
          start.await();
          int max = 0;
          for (int i = 0; i < 20_000; i++) {
            cache.put(TokenKey.of(thread + "-" + i), caller("u", NOW + 60_000), NOW);
            max = Math.max(max, cache.size());
          }
          return max;
        }));
      }
      start.countDown();
      for (Future<Integer> f : largest) {
        assertThat(f.get()).isLessThanOrEqualTo(500 + threads);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aCapacityBelowOneIsRefused() {
    assertThatThrownBy(() -> new VerifiedTokenCache(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
