package dev.portalgateway.plugins.webhook;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The queue in PostgreSQL, shared by every gateway that points at the same database: accepts from
 * any replica, claims with a lock per route and {@code FOR UPDATE SKIP LOCKED} and a visibility
 * timeout ({@code claimed_until}), so that two replicas never run one attempt at once and a
 * replica that dies leaves claims that run out and go back to the queue. Connections come from a
 * HikariCP pool; each write is one transaction, committed with {@code synchronous_commit} on (the
 * database's default) for accepts and operators' changes, off for the delivery loop's bookkeeping.
 * While the database cannot be reached, writes fail at once (after {@code connect_timeout}), so
 * an accept answers 503 instead of waiting, and the delivery loop tries again by itself.
 */
final class PostgresWebhookStore extends SqlWebhookStore {
  /** Serialises migrations of replicas that start together (an arbitrary, fixed advisory-lock key). */
  private static final long MIGRATION_LOCK = 0x706f7274616c4cL;

  private static final List<String> MIGRATIONS = List.of(
      """
      CREATE TABLE webhooks (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        route TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        query TEXT,
        headers TEXT NOT NULL,
        body BYTEA NOT NULL,
        received_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        budget_used INTEGER NOT NULL DEFAULT 0,
        budget_from BIGINT NOT NULL,
        next_at BIGINT NOT NULL,
        claimed_until BIGINT,
        possibly_delivered INTEGER NOT NULL DEFAULT 0,
        policy TEXT NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        finished_at BIGINT,
        claim TEXT
      );
      CREATE INDEX webhooks_due ON webhooks (state, next_at);
      CREATE INDEX webhooks_route ON webhooks (route, state, seq);
      CREATE TABLE attempts (
        webhook_seq BIGINT NOT NULL,
        attempt INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL,
        status INTEGER,
        error TEXT,
        outcome TEXT NOT NULL,
        PRIMARY KEY (webhook_seq, attempt)
      );
      CREATE TABLE delivery_ids (
        route TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (route, key)
      );
      CREATE TABLE paused_routes (
        route TEXT PRIMARY KEY,
        since BIGINT NOT NULL,
        reason TEXT NOT NULL
      )
      """,
      // 2: a route's due webhooks in due order, for claims and the loop's probes, however long the queue
      """
      CREATE INDEX webhooks_claim ON webhooks (route, state, next_at, seq)
      """);

  private final HikariDataSource pool;
  private final String where;
  private volatile boolean closed;

  private PostgresWebhookStore(HikariDataSource pool, String where) {
    this.pool = pool;
    this.where = where;
  }

  /**
   * Connects and migrates the schema (once, under an advisory lock, however many replicas start).
   *
   * @throws StoreException when the database cannot be reached or refuses the schema
   */
  static PostgresWebhookStore open(WebhookSettings.PostgresSettings settings) throws StoreException {
    // The driver's own DataSource, not DriverManager: the plugin's class loader is not the one
    // DriverManager looks in.
    org.postgresql.ds.PGSimpleDataSource source = new org.postgresql.ds.PGSimpleDataSource();
    source.setURL(settings.url());
    if (settings.user() != null) {
      source.setUser(settings.user());
    }
    if (settings.password() != null) {
      source.setPassword(settings.password());
    }
    source.setConnectTimeout((int) Math.max(1, settings.connectTimeout().toSeconds()));
    source.setSocketTimeout((int) Math.max(5, settings.statementTimeout().toSeconds() + 5));
    source.setOptions("-c statement_timeout=" + settings.statementTimeout().toMillis());
    HikariConfig config = new HikariConfig();
    config.setDataSource(source);
    config.setMaximumPoolSize(settings.poolSize());
    config.setMinimumIdle(1);
    config.setConnectionTimeout(Math.max(250, settings.connectTimeout().toMillis()));
    config.setValidationTimeout(Math.max(250, settings.connectTimeout().toMillis()));
    config.setInitializationFailTimeout(-1); // start even when the database is down; writes fail until it is up
    config.setPoolName("webhook-retry");
    config.setAutoCommit(false);
    HikariDataSource pool = new HikariDataSource(config);
    PostgresWebhookStore store = new PostgresWebhookStore(pool, redact(settings.url()));
    try {
      store.migrate();
    } catch (StoreException e) {
      pool.close();
      throw e;
    }
    return store;
  }

  /** @return the URL without user info or parameters, for messages */
  static String redact(String url) {
    String u = url;
    int q = u.indexOf('?');
    if (q >= 0) {
      u = u.substring(0, q);
    }
    return u.replaceAll("//[^/@]*@", "//***@");
  }

  private void migrate() throws StoreException {
    write(c -> {
      try (Statement s = c.createStatement()) {
        s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
        s.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
        int current;
        try (ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM schema_migrations")) {
          rs.next();
          current = rs.getInt(1);
        }
        if (current > MIGRATIONS.size()) {
          throw new SQLException("the queue's schema is version " + current + ", newer than this plugin knows ("
              + MIGRATIONS.size() + "): a newer gateway wrote it");
        }
        for (int v = current + 1; v <= MIGRATIONS.size(); v++) {
          for (String statement : MIGRATIONS.get(v - 1).split(";")) {
            if (!statement.isBlank()) {
              s.execute(statement);
            }
          }
          s.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (" + v + ", " + System.currentTimeMillis() + ")");
        }
      }
      return null;
    });
  }

  @Override
  <T> T write(Work<T> work, boolean durable) throws StoreException {
    return run(work, durable, false);
  }

  @Override
  <T> T read(Work<T> work) throws StoreException {
    return run(work, true, true);
  }

  private <T> T run(Work<T> work, boolean durable, boolean readOnly) throws StoreException {
    if (closed) {
      throw new StoreException("the webhook queue is closed", null);
    }
    try (Connection c = pool.getConnection()) {
      try {
        if (!durable) {
          try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL synchronous_commit = off");
          }
        }
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | IOException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // the connection is broken; the pool replaces it
        }
        throw e;
      }
    } catch (SQLException | IOException e) {
      throw new StoreException("the webhook queue in PostgreSQL at " + where + " could not "
          + (readOnly ? "read" : "write") + ": " + e.getMessage(), e);
    }
  }

  @Override
  void lockRoute(Connection c, String route) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
      p.setString(1, "webhook-retry route " + route);
      p.execute();
    }
  }

  @Override
  String upsertDeliveryId() {
    return "INSERT INTO delivery_ids (route, key, id, expires_at) VALUES (?, ?, ?, ?) "
        + "ON CONFLICT (route, key) DO UPDATE SET id = EXCLUDED.id, expires_at = EXCLUDED.expires_at";
  }

  @Override
  String upsertAttempt() {
    return "INSERT INTO attempts (webhook_seq, attempt, started_at, duration_ms, status, error, outcome) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (webhook_seq, attempt) DO UPDATE SET started_at = EXCLUDED.started_at, "
        + "duration_ms = EXCLUDED.duration_ms, status = EXCLUDED.status, error = EXCLUDED.error, outcome = EXCLUDED.outcome";
  }

  @Override
  String insertPausedRoute() {
    return "INSERT INTO paused_routes (route, since, reason) VALUES (?, ?, ?) ON CONFLICT (route) DO NOTHING";
  }

  @Override
  String claimLocking() {
    return " FOR UPDATE SKIP LOCKED";
  }

  @Override
  boolean syncClaims() {
    return true; // a crash of the database server loses commits made with synchronous_commit off
  }

  @Override
  public void close() {
    closed = true;
    pool.close();
  }
}
