package dev.portalgateway.plugins.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteWebhookStoreTest extends WebhookStoreContract {
  @TempDir
  Path dir;
  private int stores;

  @Override
  WebhookStore store() throws Exception {
    return SqliteWebhookStore.open(dir.resolve("s" + stores++), true);
  }

  @Test
  void whatWasCommittedIsThereAfterAReopenAndClaimsOfTheDeadRunArePending() throws Exception {
    Path d = dir.resolve("reopen");
    try (WebhookStore store = SqliteWebhookStore.open(d, true)) {
      store.accept(webhook("r1", "hooks", "kept", T0));
      store.accept(webhook("r2", "hooks", "kept", T0));
      store.finish(finish(store.claim("hooks", 1, false, T0, Duration.ofMinutes(1)).get(0), "delivered", null));
      store.claim("hooks", 1, false, T0, Duration.ofMinutes(1)); // in flight when the gateway goes away
    }
    try (WebhookStore guest = SqliteWebhookStore.open(d, false)) {
      assertThat(guest.find("r2").orElseThrow().summary().state()).as("a command changes no claim").isEqualTo("in_flight");
    }
    try (WebhookStore store = SqliteWebhookStore.open(d, true)) {
      assertThat(store.find("r1").orElseThrow().summary().state()).isEqualTo("delivered");
      WebhookStore.Summary r2 = store.find("r2").orElseThrow().summary();
      assertThat(r2.state()).isEqualTo("pending");
      assertThat(r2.possiblyDelivered()).isTrue();
      assertThat(store.find("r2").orElseThrow().body()).isEqualTo("kept".getBytes());
    }
  }

  @Test
  void oneGatewayOwnsTheFile() throws Exception {
    Path d = dir.resolve("owned");
    try (WebhookStore first = SqliteWebhookStore.open(d, true)) {
      assertThatThrownBy(() -> SqliteWebhookStore.open(d, true)).isInstanceOf(StoreException.class)
          .hasMessageContaining("another gateway process delivers from");
      try (WebhookStore guest = SqliteWebhookStore.open(d, false)) {
        assertThat(guest.stats().counts()).isEmpty();
      }
      assertThat(first.stats().counts()).isEmpty();
    }
  }
}
