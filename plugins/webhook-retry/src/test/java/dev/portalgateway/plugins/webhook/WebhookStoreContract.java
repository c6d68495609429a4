package dev.portalgateway.plugins.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Headers;
import dev.portalgateway.plugins.webhook.WebhookStore.AttemptRecord;
import dev.portalgateway.plugins.webhook.WebhookStore.Delivery;
import dev.portalgateway.plugins.webhook.WebhookStore.Finish;
import dev.portalgateway.plugins.webhook.WebhookStore.NewWebhook;
import dev.portalgateway.plugins.webhook.WebhookStore.Selection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link WebhookStore} promises, run against each implementation with a real database.
 */
abstract class WebhookStoreContract {
  static final DeliveryPolicy POLICY = new DeliveryPolicy(5, 3_600_000, 100, 1000, List.of(429), true, 5000);
  static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  /** @return a new, empty store */
  abstract WebhookStore store() throws Exception;

  static NewWebhook webhook(String id, String route, String body, Instant at) {
    return new NewWebhook(id, route, "POST", "/p", "q=1", Headers.of("Content-Type", "text/plain", "X-Event", id),
        body.getBytes(), at, POLICY, null, null, null, at);
  }

  static Finish finish(Delivery d, String state, Instant nextAt) {
    return new Finish(d, new AttemptRecord(d.attempt(), T0, 5, state.equals("delivered") ? 200 : 503, null, state),
        state, nextAt, true, false, null);
  }

  @Test
  void acceptedWebhooksAreClaimedOnceDeliveredAndCounted() throws Exception {
    try (WebhookStore store = store()) {
      for (int i = 0; i < 5; i++) {
        assertThat(store.accept(webhook("w" + i, "hooks", "body " + i, T0)).duplicate()).isFalse();
      }
      assertThat(store.hasDue("hooks", T0)).isTrue();
      assertThat(store.routes()).containsExactly("hooks");
      List<Delivery> first = store.claim("hooks", 3, false, T0, Duration.ofMinutes(1));
      assertThat(first).extracting(Delivery::id).containsExactly("w0", "w1", "w2");
      assertThat(first.get(0).body()).isEqualTo("body 0".getBytes());
      assertThat(first.get(0).headers().first("X-Event")).isEqualTo("w0");
      assertThat(first.get(0).query()).isEqualTo("q=1");
      assertThat(first.get(0).attempt()).isEqualTo(1);
      assertThat(first.get(0).policy()).isEqualTo(POLICY);
      // Claimed ones are not handed out again.
      assertThat(store.claim("hooks", 10, false, T0, Duration.ofMinutes(1))).extracting(Delivery::id).containsExactly("w3", "w4");
      assertThat(store.claim("hooks", 10, false, T0, Duration.ofMinutes(1))).isEmpty();
      store.finish(finish(first.get(0), "delivered", null));
      store.finish(finish(first.get(1), "pending", T0.plusSeconds(10)));
      store.finish(finish(first.get(2), "dead", null));
      assertThat(store.stats().counts().get("hooks")).containsEntry("delivered", 1L).containsEntry("pending", 1L)
          .containsEntry("dead", 1L).containsEntry("in_flight", 2L);
      assertThat(store.hasDue("hooks", T0)).isFalse(); // w1 waits until T0 + 10 s
      assertThat(store.nextDue()).isEqualTo(T0.plusSeconds(10));
      List<Delivery> retry = store.claim("hooks", 10, false, T0.plusSeconds(10), Duration.ofMinutes(1));
      assertThat(retry).extracting(Delivery::id).containsExactly("w1");
      assertThat(retry.get(0).attempt()).isEqualTo(2);
      assertThat(retry.get(0).budgetUsed()).isEqualTo(1);
      assertThat(store.find("w1").orElseThrow().attempts()).extracting(AttemptRecord::status).containsExactly(503);
    }
  }

  @Test
  void aRoutesConcurrencyCountsEveryClaimInFlight() throws Exception {
    try (WebhookStore store = store()) {
      for (int i = 0; i < 5; i++) {
        store.accept(webhook("k" + i, "capped", "b", T0));
      }
      List<Delivery> two = store.claim("capped", 2, false, T0, Duration.ofMinutes(1));
      assertThat(two).hasSize(2);
      // Another claimer (another gateway on the same store) finds the route full.
      assertThat(store.claim("capped", 2, false, T0, Duration.ofMinutes(1))).isEmpty();
      store.finish(finish(two.get(0), "delivered", null));
      assertThat(store.claim("capped", 2, false, T0, Duration.ofMinutes(1))).hasSize(1);
    }
  }

  @Test
  void repeatedDeliveryIdsWithinTheWindowAreNotStoredAgain() throws Exception {
    try (WebhookStore store = store()) {
      NewWebhook a = webhook("a", "hooks", "x", T0);
      NewWebhook keyed = new NewWebhook("a", "hooks", "POST", "/", null, Headers.empty(), new byte[0], T0, POLICY, "gh-1",
          T0.plusSeconds(60), null, T0);
      assertThat(store.accept(keyed)).isEqualTo(new WebhookStore.Accepted("a", false));
      NewWebhook again = new NewWebhook("b", "hooks", "POST", "/", null, Headers.empty(), new byte[0], T0.plusSeconds(30),
          POLICY, "gh-1", T0.plusSeconds(90), null, T0);
      assertThat(store.accept(again)).isEqualTo(new WebhookStore.Accepted("a", true));
      NewWebhook otherRoute = new NewWebhook("c", "other", "POST", "/", null, Headers.empty(), new byte[0], T0, POLICY,
          "gh-1", T0.plusSeconds(60), null, T0);
      assertThat(store.accept(otherRoute).duplicate()).isFalse();
      NewWebhook later = new NewWebhook("d", "hooks", "POST", "/", null, Headers.empty(), new byte[0], T0.plusSeconds(61),
          POLICY, "gh-1", T0.plusSeconds(121), null, T0);
      assertThat(store.accept(later)).isEqualTo(new WebhookStore.Accepted("d", false)); // the window passed
      assertThat(store.stats().counts().get("hooks")).containsEntry("pending", 2L);
      assertThat(a.id()).isEqualTo("a");
    }
  }

  @Test
  void anOrderedRouteHandsOutItsOldestOnlyWhenNothingOfItIsInFlight() throws Exception {
    try (WebhookStore store = store()) {
      for (int i = 0; i < 3; i++) {
        store.accept(webhook("o" + i, "ordered", "b", T0));
      }
      List<Delivery> head = store.claim("ordered", 5, true, T0, Duration.ofMinutes(1));
      assertThat(head).extracting(Delivery::id).containsExactly("o0");
      assertThat(store.claim("ordered", 5, true, T0, Duration.ofMinutes(1))).isEmpty();
      store.finish(finish(head.get(0), "pending", T0.plusSeconds(5)));
      // The head failed and waits: the rest wait behind it.
      assertThat(store.claim("ordered", 5, true, T0.plusSeconds(1), Duration.ofMinutes(1))).isEmpty();
      assertThat(store.claim("ordered", 5, true, T0.plusSeconds(5), Duration.ofMinutes(1))).extracting(Delivery::id)
          .containsExactly("o0");
    }
  }

  @Test
  void claimsThatOutliveTheirTimeGoBackMarkedPossiblyDelivered() throws Exception {
    try (WebhookStore store = store()) {
      store.accept(webhook("s", "hooks", "b", T0));
      Delivery d = store.claim("hooks", 1, false, T0, Duration.ofSeconds(30)).get(0);
      assertThat(store.releaseExpired(T0.plusSeconds(29))).isZero();
      assertThat(store.releaseExpired(T0.plusSeconds(31))).isEqualTo(1);
      WebhookStore.Summary s = store.find("s").orElseThrow().summary();
      assertThat(s.state()).isEqualTo("pending");
      assertThat(s.possiblyDelivered()).isTrue();
      Delivery again = store.claim("hooks", 1, false, T0.plusSeconds(31), Duration.ofSeconds(30)).get(0);
      assertThat(again.attempt()).isEqualTo(2);
      // The first attempt's late outcome changes nothing: the webhook belongs to the second claim.
      store.finish(finish(d, "dead", null));
      assertThat(store.find("s").orElseThrow().summary().state()).isEqualTo("in_flight");
      store.finish(finish(again, "delivered", null));
      assertThat(store.find("s").orElseThrow().summary().state()).isEqualTo("delivered");
    }
  }

  @Test
  void pausedRoutesAreNotClaimedUntilResumedAndReplayAndPurgeSkipWhatIsInFlight() throws Exception {
    try (WebhookStore store = store()) {
      store.accept(webhook("g1", "gone", "b", T0));
      store.accept(webhook("g2", "gone", "b", T0));
      Delivery d = store.claim("gone", 1, false, T0, Duration.ofMinutes(1)).get(0);
      store.finish(new Finish(d, new AttemptRecord(1, T0, 3, 410, "HTTP 410", "paused"), "pending", T0, false, false,
          "410 Gone"));
      assertThat(store.stats().paused()).containsKey("gone");
      assertThat(store.hasDue("gone", T0)).isFalse();
      assertThat(store.claim("gone", 5, false, T0, Duration.ofMinutes(1))).isEmpty();
      assertThat(store.resume("gone")).isTrue();
      assertThat(store.resume("gone")).isFalse();
      List<Delivery> both = store.claim("gone", 5, false, T0, Duration.ofMinutes(1));
      assertThat(both).hasSize(2);
      assertThat(both.stream().filter(x -> x.id().equals("g1")).findFirst().orElseThrow().budgetUsed())
          .as("a 410 does not use up an attempt").isZero();
      store.finish(finish(both.get(0), "dead", null));
      Selection dead = new Selection(List.of(), "dead", null, null, null, 100);
      Selection everything = new Selection(List.of(), null, "gone", null, null, 100);
      assertThat(store.replay(everything, T0)).as("the one in flight is left alone").isEqualTo(1);
      assertThat(store.list(dead)).isEmpty();
      assertThat(store.purge(everything)).isEqualTo(1);
      assertThat(store.list(new Selection(List.of(), null, null, null, null, 100))).extracting(WebhookStore.Summary::state)
          .containsExactly("in_flight");
    }
  }

  @Test
  void concurrentAcceptsAreAllStored() throws Exception {
    try (WebhookStore store = store()) {
      ExecutorService pool = Executors.newFixedThreadPool(16);
      List<Future<WebhookStore.Accepted>> results = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        int n = i;
        results.add(pool.submit(() -> store.accept(webhook("c" + n, "hooks", "body " + n, T0))));
      }
      for (Future<WebhookStore.Accepted> f : results) {
        assertThat(f.get().duplicate()).isFalse();
      }
      pool.shutdown();
      assertThat(store.stats().counts().get("hooks")).containsEntry("pending", 400L);
      // Bookkeeping at the loop's pace: claims and outcomes, one after another.
      long start = System.nanoTime();
      int done = 0;
      for (List<Delivery> batch; !(batch = store.claim("hooks", 4, false, T0, Duration.ofMinutes(1))).isEmpty(); ) {
        for (Delivery d : batch) {
          store.finish(finish(d, "delivered", null));
          done++;
        }
      }
      assertThat(done).isEqualTo(400);
      System.out.printf("%s: 400 webhooks claimed in fours and finished one by one in %d ms%n",
          getClass().getSimpleName(), (System.nanoTime() - start) / 1_000_000);
      assertThat(store.stats().counts().get("hooks")).containsEntry("delivered", 400L);
    }
  }
}
