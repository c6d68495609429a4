package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The settings of one route's webhooks, everything under {@code plugins.webhook-retry} (with a
 * route's entry under {@code routes:} laid over it); docs/plugins/webhook-retry.md describes each key.
 *
 * @param mode {@code store-and-forward} or {@code try-then-queue}
 * @param maxBody the largest body accepted; larger ones get 413
 * @param methods the methods queued; others (a GET verification challenge) go straight through
 * @param tryTimeout try-then-queue: how long the first try may take before the webhook is queued
 * @param attemptTimeout how long one background attempt may take
 * @param maxAttempts attempts before a webhook goes to the dead-letter queue
 * @param maxAge how long after acceptance (or a replay) attempts go on
 * @param initialBackoff the backoff ceiling after the first failure; it doubles after each
 * @param maxBackoff the most the ceiling grows to
 * @param retryStatuses 4xx statuses that are retried rather than dead-lettered
 * @param deadLetter4xx whether other 4xx answers go to the dead-letter queue at once
 * @param concurrency attempts in flight at once per route
 * @param ordered whether a route's webhooks are delivered one at a time in acceptance order
 * @param signature an optional signature check before anything is stored
 * @param dedupeHeader a header with the sender's delivery id; repeats within the window are not stored again
 * @param dedupeWindow how long a delivery id is remembered
 * @param retention how long delivered webhooks are kept for inspection and replay
 * @param pollInterval how often the delivery loop looks for due webhooks when nothing wakes it
 * @param store {@code sqlite} (one gateway, in its data directory) or {@code postgres} (shared by replicas)
 * @param postgres the database, for {@code store: postgres}
 */
record WebhookSettings(
    String mode,
    Long maxBody,
    List<String> methods,
    Duration tryTimeout,
    Duration attemptTimeout,
    Integer maxAttempts,
    Duration maxAge,
    Duration initialBackoff,
    Duration maxBackoff,
    List<Integer> retryStatuses,
    Boolean deadLetter4xx,
    Integer concurrency,
    Boolean ordered,
    SignatureSettings signature,
    String dedupeHeader,
    Duration dedupeWindow,
    Duration retention,
    Duration pollInterval,
    String store,
    PostgresSettings postgres) {

  /**
   * The PostgreSQL database several gateways share.
   *
   * @param url a JDBC URL, {@code jdbc:postgresql://HOST:5432/DATABASE}
   * @param user the database user
   * @param password its password (from the environment)
   * @param poolSize connections per gateway
   * @param connectTimeout how long to wait for a connection before a write fails (and an accept answers 503)
   * @param statementTimeout how long one statement may run
   */
  record PostgresSettings(String url, String user, String password, Integer poolSize, Duration connectTimeout,
      Duration statementTimeout) {
    PostgresSettings {
      poolSize = poolSize == null ? 8 : poolSize;
      connectTimeout = connectTimeout == null ? Duration.ofSeconds(2) : connectTimeout;
      statementTimeout = statementTimeout == null ? Duration.ofSeconds(10) : statementTimeout;
    }

    @Override
    public String toString() {
      return "PostgresSettings[" + (url == null ? null : PostgresWebhookStore.redact(url)) + "]"; // never the password
    }
  }

  static final String STORE_AND_FORWARD = "store-and-forward";
  static final String TRY_THEN_QUEUE = "try-then-queue";

  /**
   * @param scheme {@code github}, {@code stripe} or {@code standard} (Standard Webhooks)
   * @param secret the shared secret; for {@code standard} the {@code whsec_...} string
   * @param tolerance how far a signed timestamp may be from now (stripe, standard)
   */
  record SignatureSettings(String scheme, String secret, Duration tolerance) {
    SignatureSettings {
      scheme = scheme == null ? null : scheme.toLowerCase(Locale.ROOT);
      tolerance = tolerance == null ? Duration.ofMinutes(5) : tolerance;
    }

    @Override
    public String toString() {
      return "SignatureSettings[" + scheme + "]"; // never the secret
    }
  }

  /** Applies the defaults. */
  WebhookSettings {
    mode = mode == null ? STORE_AND_FORWARD : mode.toLowerCase(Locale.ROOT);
    maxBody = maxBody == null ? 1024L * 1024 : maxBody;
    methods = methods == null ? List.of("POST", "PUT", "PATCH", "DELETE")
        : methods.stream().map(m -> m.toUpperCase(Locale.ROOT)).toList();
    tryTimeout = tryTimeout == null ? Duration.ofSeconds(5) : tryTimeout;
    attemptTimeout = attemptTimeout == null ? Duration.ofSeconds(30) : attemptTimeout;
    maxAttempts = maxAttempts == null ? 12 : maxAttempts;
    maxAge = maxAge == null ? Duration.ofHours(72) : maxAge;
    initialBackoff = initialBackoff == null ? Duration.ofSeconds(5) : initialBackoff;
    maxBackoff = maxBackoff == null ? Duration.ofHours(1) : maxBackoff;
    retryStatuses = retryStatuses == null ? List.of(408, 409, 425, 429) : List.copyOf(retryStatuses);
    deadLetter4xx = deadLetter4xx == null || deadLetter4xx;
    concurrency = concurrency == null ? 4 : concurrency;
    ordered = ordered != null && ordered;
    dedupeHeader = dedupeHeader == null || dedupeHeader.isBlank() ? null : dedupeHeader.trim();
    dedupeWindow = dedupeWindow == null ? Duration.ofHours(24) : dedupeWindow;
    retention = retention == null ? Duration.ofDays(7) : retention;
    pollInterval = pollInterval == null ? Duration.ofSeconds(1) : pollInterval;
    store = store == null ? "sqlite" : store.toLowerCase(Locale.ROOT);
  }

  /**
   * Binds and checks the settings.
   *
   * @throws InvalidConfigException naming every key that is wrong
   */
  static WebhookSettings from(PluginConfig config) throws InvalidConfigException {
    WebhookSettings s = config.bind(WebhookSettings.class);
    String p = config.path();
    List<String> errors = new ArrayList<>();
    if (!s.mode.equals(STORE_AND_FORWARD) && !s.mode.equals(TRY_THEN_QUEUE)) {
      errors.add(p + ".mode: must be " + STORE_AND_FORWARD + " or " + TRY_THEN_QUEUE + ", not '" + s.mode + "'");
    }
    if (s.maxBody < 1 || s.maxBody > 64L * 1024 * 1024) {
      errors.add(p + ".max_body: must be between 1 byte and 64MiB");
    }
    if (s.methods.isEmpty()) {
      errors.add(p + ".methods: list at least one method");
    }
    positive(errors, p + ".try_timeout", s.tryTimeout);
    positive(errors, p + ".attempt_timeout", s.attemptTimeout);
    positive(errors, p + ".max_age", s.maxAge);
    positive(errors, p + ".initial_backoff", s.initialBackoff);
    positive(errors, p + ".dedupe_window", s.dedupeWindow);
    positive(errors, p + ".retention", s.retention);
    positive(errors, p + ".poll_interval", s.pollInterval);
    if (s.maxBackoff.compareTo(s.initialBackoff) < 0) {
      errors.add(p + ".max_backoff: must be at least initial_backoff (" + s.initialBackoff + ")");
    }
    if (s.maxAttempts < 1 || s.maxAttempts > 1000) {
      errors.add(p + ".max_attempts: must be between 1 and 1000");
    }
    if (s.concurrency < 1 || s.concurrency > 256) {
      errors.add(p + ".concurrency: must be between 1 and 256");
    }
    for (Integer status : s.retryStatuses) {
      if (status == null || status < 400 || status > 499) {
        errors.add(p + ".retry_statuses: lists 4xx statuses only (5xx are always retried), not " + status);
      }
    }
    if (s.signature != null) {
      Set<String> schemes = Set.of("github", "stripe", "standard");
      if (s.signature.scheme() == null || !schemes.contains(s.signature.scheme())) {
        errors.add(p + ".signature.scheme: must be github, stripe or standard");
      }
      if (s.signature.secret() == null || s.signature.secret().isBlank()) {
        errors.add(p + ".signature.secret: is required (put it in an environment variable: secret: ${GITHUB_WEBHOOK_SECRET})");
      } else if ("standard".equals(s.signature.scheme()) && !Signatures.isStandardSecret(s.signature.secret())) {
        errors.add(p + ".signature.secret: a Standard Webhooks secret is whsec_ followed by base64");
      }
      positive(errors, p + ".signature.tolerance", s.signature.tolerance());
    }
    if (!s.store.equals("sqlite") && !s.store.equals("postgres")) {
      errors.add(p + ".store: must be sqlite or postgres, not '" + s.store + "'");
    }
    if (s.store.equals("postgres")) {
      PostgresSettings pg = s.postgres;
      if (pg == null || pg.url() == null || !pg.url().startsWith("jdbc:postgresql://")) {
        errors.add(p + ".postgres.url: store: postgres needs a JDBC URL such as jdbc:postgresql://db:5432/gateway");
      } else {
        if (pg.poolSize() < 1 || pg.poolSize() > 100) {
          errors.add(p + ".postgres.pool_size: must be between 1 and 100");
        }
        positive(errors, p + ".postgres.connect_timeout", pg.connectTimeout());
        positive(errors, p + ".postgres.statement_timeout", pg.statementTimeout());
      }
    }
    if (!errors.isEmpty()) {
      throw new InvalidConfigException(String.join("; ", errors));
    }
    return s;
  }

  private static void positive(List<String> errors, String key, Duration d) {
    if (d.isNegative() || d.isZero()) {
      errors.add(key + ": must be more than zero");
    }
  }

  /** @return what a webhook accepted under these settings is delivered with */
  DeliveryPolicy policy() {
    return new DeliveryPolicy(maxAttempts, maxAge.toMillis(), initialBackoff.toMillis(), maxBackoff.toMillis(),
        retryStatuses, deadLetter4xx, attemptTimeout.toMillis());
  }
}
