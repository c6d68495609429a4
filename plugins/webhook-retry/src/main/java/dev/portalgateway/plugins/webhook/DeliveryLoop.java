package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.PluginContext;
import dev.portalgateway.plugins.webhook.DeliveryPolicy.Verdict;
import dev.portalgateway.plugins.webhook.WebhookStore.AttemptRecord;
import dev.portalgateway.plugins.webhook.WebhookStore.Delivery;
import dev.portalgateway.plugins.webhook.WebhookStore.Finish;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The one loop that delivers the queue, for the plugin's whole lifetime: it is the plugin's
 * lasting state, so a configuration reload neither starts a second loop nor stops attempts in
 * flight. It claims due webhooks per route up to the route's concurrency (one at a time, oldest
 * first, for an ordered route), runs each attempt on a virtual thread, and records the outcome.
 * It wakes when a webhook is accepted, an attempt ends, or the next one is due, and at least
 * every poll interval, so that a replay made by the command line is seen.
 */
final class DeliveryLoop implements AutoCloseable {
  private static final Duration SWEEP_EVERY = Duration.ofSeconds(5);
  private static final Duration EXPIRE_EVERY = Duration.ofMinutes(1);
  private static final Duration GAUGES_EVERY = Duration.ofSeconds(2);
  /** A claim outlives its attempt's time limit by this much before another attempt may take it. */
  private static final Duration CLAIM_MARGIN = Duration.ofSeconds(10);

  private final PluginContext lifetime;
  private final WebhookStore store;
  private final Sender sender;
  private final Telemetry telemetry;
  private final Clock clock;
  private final Map<String, WebhookSettings> routeSettings = new ConcurrentHashMap<>();
  private final ExecutorService attempts = Executors.newVirtualThreadPerTaskExecutor();
  private final Object signal = new Object();
  private final Thread thread;
  private volatile WebhookSettings defaults;
  private volatile boolean running = true;
  /** An attempt ended: a slot is free, look again at once. */
  private boolean freed;
  /** A webhook arrived: look again, but not more often than {@link #ARRIVALS_EVERY}. */
  private boolean arrived;
  private long lastPassNanos;
  /** Routes with webhooks waiting: learnt from requests, and read from the queue now and then (replays by command). */
  private final java.util.Set<String> knownRoutes = ConcurrentHashMap.newKeySet();
  private static final Duration ROUTES_EVERY = Duration.ofSeconds(30);
  private static final long ARRIVALS_EVERY = TimeUnit.MILLISECONDS.toNanos(50);

  DeliveryLoop(PluginContext lifetime, WebhookStore store, WebhookSettings defaults) {
    this.lifetime = lifetime;
    this.store = store;
    this.defaults = defaults;
    this.clock = lifetime.clock();
    this.sender = new Sender(lifetime.routes());
    this.telemetry = new Telemetry(lifetime);
    this.thread = new Thread(this::run, "webhook-retry-delivery");
    thread.setDaemon(true);
    thread.setContextClassLoader(DeliveryLoop.class.getClassLoader());
    thread.start();
  }

  WebhookStore store() {
    return store;
  }

  Sender sender() {
    return sender;
  }

  Telemetry telemetry() {
    return telemetry;
  }

  /** The settings of the newest configuration for routes no request has named yet. */
  void defaults(WebhookSettings settings) {
    this.defaults = settings;
  }

  /** The settings of the configuration serving a route, learnt as its requests arrive. */
  void route(String route, WebhookSettings settings) {
    if (routeSettings.get(route) != settings) {
      routeSettings.put(route, settings);
    }
    knownRoutes.add(route);
  }

  private WebhookSettings settingsFor(String route) {
    WebhookSettings s = routeSettings.get(route);
    return s != null ? s : defaults;
  }

  /** An operator changed the queue (a replay, a resume): read its routes again and look at once. */
  void queueChanged() {
    routesStale = true;
    wake();
  }

  private volatile boolean routesStale;

  /** An attempt ended: look at the queue now. */
  void wake() {
    synchronized (signal) {
      freed = true;
      signal.notifyAll();
    }
  }

  /**
   * A webhook was accepted. During a burst thousands arrive per second; looking at the queue for
   * each would only repeat the same probes, so arrivals start a pass at most every 50 ms.
   */
  void arrived() {
    synchronized (signal) {
      arrived = true;
      signal.notifyAll();
    }
  }

  private void run() {
    Instant lastSweep = Instant.EPOCH;
    Instant lastExpire = Instant.EPOCH;
    Instant lastGauges = Instant.EPOCH;
    Instant lastRoutes = Instant.EPOCH;
    while (running) {
      long waitMillis;
      synchronized (signal) {
        lastPassNanos = System.nanoTime();
      }
      try {
        Instant now = clock.instant();
        if (routesStale || Duration.between(lastRoutes, now).compareTo(ROUTES_EVERY) >= 0) {
          routesStale = false;
          knownRoutes.addAll(store.routes());
          lastRoutes = now;
        }
        if (Duration.between(lastSweep, now).compareTo(SWEEP_EVERY) >= 0) {
          int released = store.releaseExpired(now);
          if (released > 0) {
            lifetime.event(Level.WARNING, "webhook attempts that never finished are queued again",
                Map.of("webhooks", released));
          }
          lastSweep = now;
        }
        if (Duration.between(lastExpire, now).compareTo(EXPIRE_EVERY) >= 0) {
          store.expire(now.minus(defaults.retention()), now);
          lastExpire = now;
        }
        if (Duration.between(lastGauges, now).compareTo(GAUGES_EVERY) >= 0) {
          telemetry.queue(store.stats(), now);
          lastGauges = now;
        }
        boolean claimed = dispatch(now);
        Instant next = store.nextDue();
        long poll = defaults.pollInterval().toMillis();
        if (claimed) {
          waitMillis = 0;
        } else if (next == null || !next.isAfter(now)) {
          waitMillis = poll; // nothing due, or due but no free slot: an attempt's end wakes us
        } else {
          waitMillis = Math.min(poll, Duration.between(now, next).toMillis() + 1);
        }
      } catch (StoreException | RuntimeException e) {
        lifetime.event(Level.ERROR, "the webhook delivery loop cannot read its queue; trying again",
            Map.of("error", String.valueOf(e.getMessage())));
        waitMillis = defaults.pollInterval().toMillis();
      }
      pause(waitMillis);
    }
  }

  private void pause(long millis) {
    synchronized (signal) {
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      while (running) {
        long now = System.nanoTime();
        if (freed || now >= until) {
          break;
        }
        long wait = until - now;
        if (arrived) {
          long arrivalsAt = lastPassNanos + ARRIVALS_EVERY;
          if (now >= arrivalsAt) {
            break;
          }
          wait = Math.min(wait, arrivalsAt - now);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(signal, Math.max(1, wait));
        } catch (InterruptedException e) {
          return;
        }
      }
      freed = false;
      arrived = false;
    }
  }

  /** @return whether any webhook was claimed */
  private boolean dispatch(Instant now) throws StoreException {
    boolean any = false;
    for (String route : knownRoutes) {
      if (!store.hasDue(route, now)) {
        continue;
      }
      WebhookSettings s = settingsFor(route);
      Duration claimFor = s.attemptTimeout().plus(CLAIM_MARGIN);
      // The store counts what is in flight, here and on other gateways sharing it.
      for (Delivery d : store.claim(route, s.concurrency(), s.ordered(), now, claimFor)) {
        any = true;
        attempts.submit(() -> {
          try {
            attempt(d);
          } finally {
            wake();
          }
        });
      }
    }
    return any;
  }

  private void attempt(Delivery d) {
    DeliveryPolicy policy = d.policy();
    Instant started = clock.instant();
    Sender.Outcome o = sender.attempt(
        Sender.request(d.id(), d.attempt(), d.route(), d.method(), d.path(), d.query(), d.headers(), d.body()),
        Duration.ofMillis(policy.attemptTimeoutMillis()));
    Instant ended = clock.instant();
    long took = Duration.between(started, ended).toMillis();
    Verdict verdict = o.status() == null ? Verdict.RETRY : policy.judge(o.status());
    String error = o.error() != null ? o.error() : verdict == Verdict.DELIVERED ? null : "HTTP " + o.status();
    String state;
    Instant nextAt = null;
    String pause = null;
    String outcome;
    String reason = null;
    switch (verdict) {
      case DELIVERED -> {
        state = "delivered";
        outcome = "delivered";
      }
      case DEAD -> {
        state = "dead";
        outcome = "dead";
        reason = "the service answered " + o.status() + ", which is final";
      }
      case PAUSE -> {
        state = "pending";
        nextAt = ended;
        outcome = "paused";
        pause = "the service answered 410 Gone at " + ended + " (webhook " + d.id() + ")";
      }
      default -> {
        int used = d.budgetUsed() + 1;
        Instant retryAt = ended.plusMillis(policy.backoffMillis(used));
        Instant asked = retryAfter(o.retryAfter(), ended);
        if (asked != null && asked.isAfter(retryAt)) {
          retryAt = asked;
        }
        if (used >= policy.maxAttempts()) {
          state = "dead";
          outcome = "dead";
          reason = "gave up after " + used + " attempts";
        } else if (Duration.between(d.budgetFrom(), retryAt).toMillis() > policy.maxAgeMillis()) {
          state = "dead";
          outcome = "dead";
          reason = "the next attempt would be past max_age";
        } else {
          state = "pending";
          nextAt = retryAt;
          outcome = "retry";
        }
      }
    }
    AttemptRecord record = new AttemptRecord(d.attempt(), started, took, o.status(),
        reason == null ? error : error + "; " + reason, outcome);
    try {
      store.finish(new Finish(d, record, state, nextAt, verdict != Verdict.PAUSE, o.timedOut(), pause));
    } catch (StoreException e) {
      // The claim runs out and the webhook is tried again: at least once, never lost.
      lifetime.event(Level.ERROR, "a webhook attempt's outcome was not stored; it will be tried again",
          Map.of("webhook_id", d.id(), "route", d.route(), "error", String.valueOf(e.getMessage())));
    }
    telemetry.attempt(d.route(), outcome);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("webhook_id", d.id());
    fields.put("route", d.route());
    fields.put("attempt", d.attempt());
    fields.put("status", o.status());
    fields.put("outcome", outcome);
    fields.put("duration_ms", took);
    if (record.error() != null) {
      fields.put("error", record.error());
    }
    if (nextAt != null && verdict == Verdict.RETRY) {
      fields.put("next_attempt_at", nextAt.toString());
    }
    Level level = switch (verdict) {
      case DELIVERED -> Level.INFO;
      case RETRY -> "dead".equals(state) ? Level.ERROR : Level.WARNING;
      default -> Level.ERROR;
    };
    lifetime.event(level, verdict == Verdict.PAUSE
        ? "webhook delivery to the route is stopped: the service answered 410 Gone; resume it with the resume endpoint or command"
        : "webhook delivery attempt", fields);
  }

  /** {@code Retry-After} as seconds or an HTTP date; null when absent or unreadable. */
  static Instant retryAfter(String value, Instant now) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? null : now.plusSeconds(Math.min(seconds, Duration.ofDays(30).toSeconds()));
    } catch (NumberFormatException e) {
      try {
        return java.time.ZonedDateTime.parse(v, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      } catch (DateTimeParseException unreadable) {
        return null;
      }
    }
  }

  @Override
  public void close() {
    running = false;
    wake();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    attempts.shutdown();
    try {
      // Attempts still running after this stay claimed in the queue and go out again after a restart.
      attempts.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    attempts.shutdownNow();
    sender.close();
    store.close();
  }
}
