package dev.portalgateway.plugins.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ApiKeyTest {
  private final SecureRandom random = new SecureRandom();

  @Test
  void aGeneratedKeyHasTheDocumentedShapeAndParsesBack() {
    ApiKey key = ApiKey.generate(random);
    assertThat(key.text()).matches("sk_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}");
    assertThat(ApiKey.parse(key.text())).isEqualTo(key);
    // 43 base62 characters carry log2(62^43) ≈ 256 bits; bcrypt reads at most 72 bytes.
    assertThat(43 * Math.log(62) / Math.log(2)).isGreaterThanOrEqualTo(255.9);
    assertThat(key.secret().length()).isLessThanOrEqualTo(72);
  }

  @Test
  void keysAreNotRepeated() {
    Set<String> ids = new HashSet<>();
    Set<String> secrets = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      ApiKey k = ApiKey.generate(random);
      ids.add(k.id());
      secrets.add(k.secret());
    }
    assertThat(ids).hasSize(2000);
    assertThat(secrets).hasSize(2000);
  }

  @Test
  void everyBase62CharacterTurnsUp() {
    Set<Character> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      for (char c : ApiKey.generate(random).secret().toCharArray()) {
        seen.add(c);
      }
    }
    assertThat(seen).hasSize(62);
  }

  @Test
  void rotationKeepsTheIdAndChangesTheSecret() {
    ApiKey key = ApiKey.generate(random);
    ApiKey rotated = ApiKey.withNewSecret(random, key.id());
    assertThat(rotated.id()).isEqualTo(key.id());
    assertThat(rotated.secret()).isNotEqualTo(key.secret());
  }

  @Test
  void toStringNeverShowsTheSecret() {
    ApiKey key = ApiKey.generate(random);
    assertThat(key.toString()).contains(key.id()).doesNotContain(key.secret());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "sk_live_", "sk_live_abc", "sk_test_AbCdEfGhIjKl_0123456789012345678901234567890123456789012",
      "sk_live_AbCdEfGhIjKl", "sk_live_AbCdEfGhIjKl_short", "sk_live_Ab_01234567890123456789012345678901234567890",
      "sk_live_AbCdEfGh-jKl_0123456789012345678901234567890123456789012",
      "sk_live_AbCdEfGhIjKl_01234567890123456789012345678901234567890+2",
      "sk_live_AbCdEfGhIjKl_0123456789012345678901234567890123456789012345678901234567890123456789",
      "Bearer sk_live_AbCdEfGhIjKl_0123456789012345678901234567890123456789012",
  })
  void malformedKeysAreRefusedBeforeAnyLookup(String text) {
    assertThat(ApiKey.parse(text)).isNull();
  }
}
