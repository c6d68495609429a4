package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.Headers;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The durable queue of webhooks. SQLite in the data directory for one gateway
 * ({@link SqliteWebhookStore}); the interface is what a shared PostgreSQL store for several
 * replicas implements too, so that claims carry a visibility timeout ({@code claimFor}) rather
 * than relying on one process owning the queue.
 *
 * <p>States: {@code pending} (waiting for its next attempt), {@code in_flight} (claimed by an
 * attempt), {@code delivered}, {@code dead} (the dead-letter queue).
 */
interface WebhookStore extends AutoCloseable {

  /** The states a webhook passes through. */
  List<String> STATES = List.of("pending", "in_flight", "delivered", "dead");

  /**
   * A webhook to store.
   *
   * @param id its stable id, sent with every attempt
   * @param route the route it came in on
   * @param method the original method
   * @param path the path below the route
   * @param query the raw query, or null
   * @param headers the original headers, hop-by-hop fields removed
   * @param body the body, byte for byte
   * @param receivedAt when it arrived
   * @param policy its retry policy
   * @param dedupeKey the sender's delivery id, or null
   * @param dedupeUntil until when that id counts as a repeat
   * @param firstTry the try-then-queue attempt that already happened, or null
   * @param nextAt when the next attempt is due
   */
  record NewWebhook(String id, String route, String method, String path, String query, Headers headers, byte[] body,
      Instant receivedAt, DeliveryPolicy policy, String dedupeKey, Instant dedupeUntil, AttemptRecord firstTry,
      Instant nextAt) {}

  /**
   * @param id the id of the stored webhook (for a repeat, the first one's)
   * @param duplicate whether it repeated a delivery id seen within the window, and was not stored again
   */
  record Accepted(String id, boolean duplicate) {}

  /**
   * A claimed webhook, ready for an attempt.
   *
   * @param seq its row
   * @param attempt the number of this attempt, counting every attempt since acceptance
   * @param budgetUsed attempts since acceptance or the last replay, this one not included
   * @param budgetFrom when its attempt budget started (acceptance or the last replay)
   * @param possiblyDelivered whether an earlier attempt may have reached the service
   * @param claim this claim's random token: its outcome is recorded only while the claim is still
   *     the webhook's, never over a later claim's after this one ran out
   */
  record Delivery(long seq, String id, String route, String method, String path, String query, Headers headers,
      byte[] body, int attempt, int budgetUsed, Instant budgetFrom, Instant receivedAt, DeliveryPolicy policy,
      boolean possiblyDelivered, String claim) {}

  /**
   * One attempt, as recorded.
   *
   * @param attempt its number
   * @param startedAt when it started
   * @param durationMillis how long it took
   * @param status the upstream's status, or null when none came
   * @param error what went wrong, or null
   * @param outcome {@code delivered}, {@code retry}, {@code dead}, {@code paused}, {@code queued}
   */
  record AttemptRecord(int attempt, Instant startedAt, long durationMillis, Integer status, String error,
      String outcome) {}

  /**
   * How an attempt ended, and what happens next.
   *
   * @param delivery the attempt's webhook
   * @param record the attempt
   * @param state the webhook's new state: {@code delivered}, {@code pending} or {@code dead}
   * @param nextAt for {@code pending}, when the next attempt is due
   * @param countsAgainstBudget whether the attempt uses one of the webhook's attempts
   * @param possiblyDelivered whether the attempt may have reached the service although it failed
   * @param pauseRoute a reason to stop delivering to the route (a 410), or null
   */
  record Finish(Delivery delivery, AttemptRecord record, String state, Instant nextAt, boolean countsAgainstBudget,
      boolean possiblyDelivered, String pauseRoute) {}

  /**
   * Which webhooks an operation is for. With ids, only those; else every webhook matching the
   * other fields that are set.
   *
   * @param ids webhook ids, or empty
   * @param state a state, or null for any
   * @param route a route, or null for any
   * @param since received at or after, or null
   * @param until received before, or null
   * @param limit the most rows a listing returns
   */
  record Selection(List<String> ids, String state, String route, Instant since, Instant until, int limit) {
    public Selection {
      ids = ids == null ? List.of() : List.copyOf(ids);
    }

    public boolean isEmpty() {
      return ids.isEmpty() && state == null && route == null && since == null && until == null;
    }
  }

  /**
   * A webhook as listed: everything but its headers and body.
   *
   * @param attempts attempts made in all
   */
  record Summary(String id, String route, String method, String path, String state, Instant receivedAt,
      int attempts, Instant nextAt, Integer lastStatus, String lastError, Instant finishedAt,
      boolean possiblyDelivered, int bodyBytes) {}

  /**
   * One webhook in full: its headers (for the caller to redact), body and attempts.
   */
  record Detail(Summary summary, String query, Headers headers, byte[] body, List<AttemptRecord> attempts) {}

  /**
   * The queue's size, per route and state, with the oldest webhook still waiting per route.
   *
   * @param counts route to state to count
   * @param oldestPending route to when its oldest undelivered webhook (pending or in flight) arrived
   * @param paused route to why delivery to it stopped
   */
  record Stats(Map<String, Map<String, Long>> counts, Map<String, Instant> oldestPending, Map<String, String> paused) {}

  /**
   * Stores a webhook durably: on the disk, synced, when this returns.
   *
   * @throws StoreException when it was not stored
   */
  Accepted accept(NewWebhook webhook) throws StoreException;

  /** @return the routes with webhooks waiting or in flight (a scan of the queue: asked rarely) */
  java.util.Set<String> routes() throws StoreException;

  /** @return whether a route that is not paused has a webhook due by {@code now} (one index probe) */
  boolean hasDue(String route, Instant now) throws StoreException;

  /** @return when the earliest pending webhook of a route that is not paused is due, or null */
  Instant nextDue() throws StoreException;

  /**
   * Claims due webhooks of a route for attempts: they are {@code in_flight} until finished or
   * until {@code claimFor} has passed, when {@link #releaseExpired} hands them out again.
   *
   * @param concurrency the most of the route's webhooks in flight at once, counting those of every
   *     gateway that shares the store
   * @param ordered claim only the route's oldest undelivered webhook, and only when none is in flight
   */
  List<Delivery> claim(String route, int concurrency, boolean ordered, Instant now, Duration claimFor)
      throws StoreException;

  /** Records an attempt and moves its webhook to its new state, if its claim is still the webhook's. */
  void finish(Finish finish) throws StoreException;

  /**
   * @return how many claims that outlived their time went back to {@code pending}, marked
   *     possibly delivered: the attempt's process died or hung
   */
  int releaseExpired(Instant now) throws StoreException;

  /** Drops delivered webhooks finished before {@code deliveredBefore} and expired delivery ids. */
  int expire(Instant deliveredBefore, Instant now) throws StoreException;

  /** @return the matching webhooks, newest first */
  List<Summary> list(Selection selection) throws StoreException;

  /** @return one webhook in full */
  Optional<Detail> find(String id) throws StoreException;

  /**
   * Queues the matching webhooks (not those in flight) for delivery now, with a fresh attempt
   * budget. Never refused as a repeat: a replay is a deliberate second delivery.
   *
   * @return how many were queued
   */
  int replay(Selection selection, Instant now) throws StoreException;

  /** Deletes the matching webhooks (not those in flight). @return how many */
  int purge(Selection selection) throws StoreException;

  /** Resumes delivery to a route that answered 410. @return whether it was paused */
  boolean resume(String route) throws StoreException;

  /** @return the queue's size */
  Stats stats() throws StoreException;

  @Override
  void close();
}
