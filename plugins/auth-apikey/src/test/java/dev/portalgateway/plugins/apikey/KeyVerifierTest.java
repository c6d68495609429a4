package dev.portalgateway.plugins.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KeyVerifierTest {
  private final AtomicInteger bcryptRuns = new AtomicInteger();
  private final KeyVerifier verifier = new KeyVerifier(1000, Duration.ofMinutes(5), Duration.ofMinutes(1),
      bcryptRuns::incrementAndGet);

  @AfterEach
  void close() {
    verifier.close();
  }

  private static KeyRing.Entry entry(StoredKey k) {
    return KeyRing.of(List.of(k)).get(k.id());
  }

  @Test
  void theRightSecretMatchesAndBcryptRunsOnceForManyRequests() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    KeyRing.Entry e = entry(k.stored());
    assertThat(verifier.cached(k.key(), e)).isNull();
    for (int i = 0; i < 50; i++) {
      assertThat(verifier.verify(k.key(), e).matchedHash()).isEqualTo(k.stored().hash());
    }
    assertThat(bcryptRuns).hasValue(1);
    assertThat(verifier.cached(k.key(), e)).isNotNull();
  }

  @Test
  void concurrentRequestsWithANewKeyShareOneBcrypt() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    StoredKey slow = new StoredKey(k.stored().id(), "a", KeyVerifier.hash(k.key().secret(), 10), List.of("*"), null,
        null, false, null, null, false, null, null, null);
    KeyRing.Entry e = entry(slow);
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<KeyVerifier.Verdict>> results = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      results.add(pool.submit(() -> {
        start.await();
        return verifier.verify(k.key(), e);
      }));
    }
    start.countDown();
    for (Future<KeyVerifier.Verdict> f : results) {
      assertThat(f.get().matched()).isTrue();
    }
    pool.shutdown();
    assertThat(bcryptRuns).hasValue(1);
  }

  @Test
  void aWrongSecretIsRememberedAsWrong() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    ApiKey wrong = ApiKey.withNewSecret(TestKeys.RANDOM, k.key().id());
    KeyRing.Entry e = entry(k.stored());
    for (int i = 0; i < 20; i++) {
      assertThat(verifier.verify(wrong, e).matched()).isFalse();
    }
    assertThat(bcryptRuns).hasValue(1);
    assertThat(verifier.cached(wrong, e)).isNotNull().extracting(KeyVerifier.Verdict::matched).isEqualTo(false);
  }

  @Test
  void aResultStopsApplyingWhenTheKeysHashChanges() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    assertThat(verifier.verify(k.key(), entry(k.stored())).matched()).isTrue();
    // The file now holds another secret's hash for this id (someone rotated it).
    ApiKey next = ApiKey.withNewSecret(TestKeys.RANDOM, k.key().id());
    StoredKey replaced = new StoredKey(k.stored().id(), "a", KeyVerifier.hash(next.secret(), 4), List.of("*"), null, null,
        false, null, null, false, null, null, null);
    assertThat(verifier.cached(k.key(), entry(replaced))).isNull();
    assertThat(verifier.verify(k.key(), entry(replaced)).matched()).isFalse();
    assertThat(verifier.verify(next, entry(replaced)).matched()).isTrue();
  }

  @Test
  void duringARotationBothSecretsMatch() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    ApiKey next = ApiKey.withNewSecret(TestKeys.RANDOM, k.key().id());
    StoredKey rotated = k.stored().rotatedTo(KeyVerifier.hash(next.secret(), 4), Instant.now().plusSeconds(3600));
    KeyRing.Entry e = entry(rotated);
    assertThat(verifier.verify(next, e).matchedHash()).isEqualTo(rotated.hash());
    assertThat(verifier.verify(k.key(), e).matchedHash()).isEqualTo(rotated.previousHash());
  }

  @Test
  void hashesFromOtherBcryptToolsAreAccepted() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    for (String prefix : List.of("$2b$", "$2y$")) {
      StoredKey other = new StoredKey(k.stored().id(), "a", prefix + k.stored().hash().substring(4), List.of("*"), null,
          null, false, null, null, false, null, null, null);
      assertThat(verifier.verify(k.key(), entry(other)).matched()).as(prefix).isTrue();
    }
  }

  @Test
  void forgettingAKeyDropsItsResults() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "*");
    KeyRing.Entry e = entry(k.stored());
    verifier.verify(k.key(), e);
    verifier.forget(Set.of(k.key().id()));
    assertThat(verifier.cached(k.key(), e)).isNull();
    verifier.verify(k.key(), e);
    assertThat(bcryptRuns).hasValue(2);
  }
}
