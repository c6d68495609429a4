package dev.portalgateway.plugins.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisSettingsTest {
  @Test
  void settingsHaveDefaultsAndHideThePassword() {
    RedisSettings d = RedisSettings.defaults();
    assertThat(d.url()).isEqualTo("redis://127.0.0.1:6379");
    assertThat(d.connectTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(d.timeout()).isEqualTo(Duration.ofMillis(200));
    assertThat(d.poolSize()).isEqualTo(64);
    assertThat(d.keyPrefix()).isEqualTo("portal-gateway:rl:");

    RedisSettings withPassword = new RedisSettings("redis://:pw-x@h", null, null, null, null);
    assertThat(withPassword.toString()).doesNotContain("pw-x").contains("redis://***@h");
    assertThat(RedisSettings.redacted("rediss://u:pw-x@h:1")).isEqualTo("rediss://***@h:1");

    assertThatThrownBy(() -> new RedisSettings(null, null, null, 0, null)).hasMessageContaining("pool_size");
    assertThatThrownBy(() -> new RedisSettings(null, null, Duration.ZERO, null, null)).hasMessageContaining("timeout");
    assertThatThrownBy(() -> new RedisSettings("redis://:pw-x@h/x", null, null, null, null))
        .hasMessageStartingWith("url: ").hasMessageNotContaining("pw-x");
  }
}
