package dev.portalgateway.plugins.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.api.Headers;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The queue in an SQLite file, {@code webhooks.db} in the plugin's data directory, in WAL mode
 * with {@code synchronous=FULL}: a commit returns once the log is synced to the disk.
 *
 * <p>Every write goes through one writer thread that takes whatever is waiting (up to
 * {@value #MAX_BATCH} writes) and commits it as one transaction, each write in a savepoint of
 * its own: concurrent accepts share one sync instead of queueing for one each (group commit).
 * Reads use a second connection, which WAL lets run beside the writer.
 *
 * <p>The gateway opens the file as its owner: it holds {@code webhooks.lock}, so a second gateway
 * on the same data directory fails to start instead of delivering the same webhooks, and claims
 * left by an earlier run that died go back to {@code pending} at once. Commands open it as a guest.
 */
final class SqliteWebhookStore implements WebhookStore {
  static final String FILE = "webhooks.db";
  private static final int MAX_BATCH = 512;
  private static final Duration WRITE_WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** Versioned schema steps, applied in order, each once, recorded in schema_migrations. */
  private static final List<String> MIGRATIONS = List.of(
      """
      CREATE TABLE webhooks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        route TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        query TEXT,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        budget_used INTEGER NOT NULL DEFAULT 0,
        budget_from INTEGER NOT NULL,
        next_at INTEGER NOT NULL,
        claimed_until INTEGER,
        possibly_delivered INTEGER NOT NULL DEFAULT 0,
        policy TEXT NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        finished_at INTEGER
      );
      CREATE INDEX webhooks_due ON webhooks (state, next_at);
      CREATE INDEX webhooks_route ON webhooks (route, state, seq);
      CREATE TABLE attempts (
        webhook_seq INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        outcome TEXT NOT NULL,
        PRIMARY KEY (webhook_seq, attempt)
      );
      CREATE TABLE delivery_ids (
        route TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (route, key)
      );
      CREATE TABLE paused_routes (
        route TEXT PRIMARY KEY,
        since INTEGER NOT NULL,
        reason TEXT NOT NULL
      );
      """,
      // 2: a token per claim, so that an attempt that outlived its claim cannot record over the next one's
      """
      ALTER TABLE webhooks ADD COLUMN claim TEXT
      """);

  private final Path file;
  private final Connection writeConnection;
  private final Connection readConnection;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final BlockingQueue<Write<?>> writes = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile boolean closed;

  @FunctionalInterface
  private interface Work<T> {
    T run(Connection c) throws SQLException, IOException;
  }

  /** @param durable whether its commit must be synced before it returns (accepts, operator changes) */
  private record Write<T>(Work<T> work, boolean durable, CompletableFuture<T> done) {}

  /** The synchronous mode of the write connection's next commit; changed only between batches. */
  private boolean syncedCommits = true;

  private SqliteWebhookStore(Path file, Connection w, Connection r, FileChannel lockChannel, FileLock lock) {
    this.file = file;
    this.writeConnection = w;
    this.readConnection = r;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.writer = new Thread(this::writeLoop, "webhook-retry-store-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Opens (creating and migrating) the queue in {@code dir}.
   *
   * @param owner whether this is the gateway that delivers from it (takes the lock, releases
   *     claims an earlier run left); a command opens it as a guest
   * @throws StoreException when the file cannot be opened, or another gateway owns it
   */
  static SqliteWebhookStore open(Path dir, boolean owner) throws StoreException {
    FileChannel channel = null;
    FileLock lock = null;
    Connection w = null;
    Connection r = null;
    try {
      Files.createDirectories(dir);
      prepareNativeLibrary(dir);
      if (owner) {
        channel = FileChannel.open(dir.resolve("webhooks.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
          lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
          lock = null;
        }
        if (lock == null) {
          throw new StoreException("another gateway process delivers from " + dir.resolve(FILE)
              + "; give each gateway its own server.data_dir", null);
        }
      }
      Path file = dir.resolve(FILE);
      SQLiteConfig config = new SQLiteConfig();
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
      config.setSynchronous(SQLiteConfig.SynchronousMode.FULL); // a commit is on the disk when it returns
      config.setBusyTimeout(10_000); // a command and the gateway may write at the same moment
      config.enforceForeignKeys(false);
      SQLiteDataSource source = new SQLiteDataSource(config);
      source.setUrl("jdbc:sqlite:" + file);
      w = source.getConnection();
      w.setAutoCommit(false);
      migrate(w);
      if (owner) {
        try (Statement s = w.createStatement()) {
          // Only this process delivers from the file: any claim in it is a dead run's.
          s.executeUpdate("UPDATE webhooks SET state = 'pending', claimed_until = NULL, claim = NULL, possibly_delivered = 1, "
              + "last_error = 'the gateway stopped during the attempt' WHERE state = 'in_flight'");
        }
        w.commit();
      }
      // The writer runs its own BEGIN and COMMIT, so that it can set the sync mode between them.
      w.setAutoCommit(true);
      r = source.getConnection();
      r.setAutoCommit(true);
      return new SqliteWebhookStore(file, w, r, channel, lock);
    } catch (SQLException | IOException e) {
      closeQuietly(w);
      closeQuietly(r);
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      throw new StoreException("cannot open the webhook queue in " + dir + ": " + e.getMessage(), e);
    } catch (StoreException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      throw e;
    }
  }

  /**
   * sqlite-jdbc unpacks its native library into {@code org.sqlite.tmpdir} (else the system temp
   * directory) before first use: point it into the data directory, so that a read-only root file
   * system (a hardened container) works. An operator's own setting wins; one this plugin made
   * earlier (a previous data directory in the same JVM) is replaced.
   */
  private static synchronized void prepareNativeLibrary(Path dir) throws IOException {
    String current = System.getProperty("org.sqlite.tmpdir");
    if (current == null || current.equals(System.getProperty(TMPDIR_MARK))) {
      String nativeDir = Files.createDirectories(dir.resolve("native")).toString();
      System.setProperty("org.sqlite.tmpdir", nativeDir);
      System.setProperty(TMPDIR_MARK, nativeDir);
    }
  }

  /** Says that org.sqlite.tmpdir was set by this plugin, not by the operator. */
  private static final String TMPDIR_MARK = "dev.portalgateway.webhook-retry.sqlite-tmpdir";

  private static void migrate(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.executeUpdate("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
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
            s.executeUpdate(statement);
          }
        }
        s.executeUpdate("INSERT INTO schema_migrations (version, applied_at) VALUES (" + v + ", "
            + System.currentTimeMillis() + ")");
      }
    }
    c.commit();
  }

  // ---- the writer

  /** A write whose commit is synced to the disk before this returns. */
  private <T> T write(Work<T> work) throws StoreException {
    return write(work, true);
  }

  /**
   * The delivery loop's own bookkeeping (claims, outcomes, sweeps): committed, but not synced by
   * itself. A crash may lose the last of these, which only makes a webhook go out again (at least
   * once, with its id); it never loses one. The next synced commit (an accept) syncs them too.
   */
  private <T> T bookkeeping(Work<T> work) throws StoreException {
    return write(work, false);
  }

  private <T> T write(Work<T> work, boolean durable) throws StoreException {
    if (closed) {
      throw new StoreException("the webhook queue is closed", null);
    }
    CompletableFuture<T> done = new CompletableFuture<>();
    writes.add(new Write<>(work, durable, done));
    try {
      return done.get(WRITE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the webhook queue", e);
    } catch (TimeoutException e) {
      throw new StoreException("the webhook queue's disk did not answer within " + WRITE_WAIT.toSeconds() + " s", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw new StoreException("the webhook queue could not write " + file + ": " + cause.getMessage(), cause);
    }
  }

  private void writeLoop() {
    List<Write<?>> batch = new ArrayList<>(MAX_BATCH);
    List<Object> results = new ArrayList<>(MAX_BATCH);
    while (!closed || !writes.isEmpty()) {
      try {
        Write<?> first = writes.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        writes.drainTo(batch, MAX_BATCH - 1);
        runBatch(batch, results);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        batch.clear();
        results.clear();
      }
    }
    for (Write<?> left; (left = writes.poll()) != null; ) {
      left.done().completeExceptionally(new SQLException("the webhook queue closed"));
    }
  }

  private void runBatch(List<Write<?>> batch, List<Object> results) {
    try (Statement s = writeConnection.createStatement()) {
      boolean durable = false;
      for (Write<?> w : batch) {
        durable |= w.durable();
      }
      if (durable != syncedCommits) {
        // Between transactions only. WAL with NORMAL: the commit is atomic and survives a process
        // crash, but the log is synced only at the next FULL commit or checkpoint.
        s.execute("PRAGMA synchronous = " + (durable ? "FULL" : "NORMAL"));
        syncedCommits = durable;
      }
      s.execute("BEGIN IMMEDIATE");
      try {
        for (Write<?> w : batch) {
          s.execute("SAVEPOINT one");
          try {
            results.add(w.work().run(writeConnection));
            s.execute("RELEASE one");
          } catch (SQLException | IOException | RuntimeException e) {
            s.execute("ROLLBACK TO one");
            s.execute("RELEASE one");
            results.add(new Failure(e));
          }
        }
        s.execute("COMMIT");
      } catch (SQLException e) {
        try {
          s.execute("ROLLBACK");
        } catch (SQLException ignored) {
          // the commit's error is the one to report
        }
        throw e;
      }
    } catch (SQLException e) {
      for (Write<?> w : batch) {
        w.done().completeExceptionally(e);
      }
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      complete(batch.get(i), results.get(i));
    }
  }

  private record Failure(Exception error) {}

  @SuppressWarnings("unchecked")
  private static <T> void complete(Write<T> w, Object result) {
    if (result instanceof Failure f) {
      w.done().completeExceptionally(f.error());
    } else {
      w.done().complete((T) result);
    }
  }

  // ---- the queue

  @Override
  public Accepted accept(NewWebhook n) throws StoreException {
    String headers = encodeHeaders(n.headers());
    String policy = policyJson(n.policy());
    return write(c -> {
      if (n.dedupeKey() != null) {
        try (PreparedStatement q = c.prepareStatement("SELECT id, expires_at FROM delivery_ids WHERE route = ? AND key = ?")) {
          q.setString(1, n.route());
          q.setString(2, n.dedupeKey());
          try (ResultSet rs = q.executeQuery()) {
            if (rs.next() && rs.getLong(2) > n.receivedAt().toEpochMilli()) {
              return new Accepted(rs.getString(1), true);
            }
          }
        }
        try (PreparedStatement d = c.prepareStatement(
            "INSERT OR REPLACE INTO delivery_ids (route, key, id, expires_at) VALUES (?, ?, ?, ?)")) {
          d.setString(1, n.route());
          d.setString(2, n.dedupeKey());
          d.setString(3, n.id());
          d.setLong(4, n.dedupeUntil().toEpochMilli());
          d.executeUpdate();
        }
      }
      AttemptRecord first = n.firstTry();
      long seq;
      try (PreparedStatement i = c.prepareStatement("INSERT INTO webhooks (id, route, method, path, query, headers, body, "
          + "received_at, state, attempts, budget_used, budget_from, next_at, possibly_delivered, policy, last_status, "
          + "last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
        i.setString(1, n.id());
        i.setString(2, n.route());
        i.setString(3, n.method());
        i.setString(4, n.path());
        i.setString(5, n.query());
        i.setString(6, headers);
        i.setBytes(7, n.body());
        i.setLong(8, n.receivedAt().toEpochMilli());
        i.setInt(9, first == null ? 0 : 1);
        i.setInt(10, first == null ? 0 : 1);
        i.setLong(11, n.receivedAt().toEpochMilli());
        i.setLong(12, n.nextAt().toEpochMilli());
        i.setInt(13, first != null && "queued-possibly-delivered".equals(first.outcome()) ? 1 : 0);
        i.setString(14, policy);
        setNullableInt(i, 15, first == null ? null : first.status());
        i.setString(16, first == null ? null : first.error());
        i.executeUpdate();
        try (ResultSet keys = i.getGeneratedKeys()) {
          keys.next();
          seq = keys.getLong(1);
        }
      }
      if (first != null) {
        insertAttempt(c, seq, first);
      }
      return new Accepted(n.id(), false);
    });
  }

  @Override
  public Map<String, Integer> due(Instant now) throws StoreException {
    return read(c -> {
      Map<String, Integer> due = new LinkedHashMap<>();
      try (PreparedStatement q = c.prepareStatement("SELECT route, count(*) FROM webhooks WHERE state = 'pending' "
          + "AND next_at <= ? AND route NOT IN (SELECT route FROM paused_routes) GROUP BY route")) {
        q.setLong(1, now.toEpochMilli());
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            due.put(rs.getString(1), rs.getInt(2));
          }
        }
      }
      return due;
    });
  }

  @Override
  public Instant nextDue() throws StoreException {
    return read(c -> {
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT min(next_at) FROM webhooks WHERE state = 'pending' "
              + "AND route NOT IN (SELECT route FROM paused_routes)")) {
        rs.next();
        long at = rs.getLong(1);
        return rs.wasNull() ? null : Instant.ofEpochMilli(at);
      }
    });
  }

  @Override
  public List<Delivery> claim(String route, int max, boolean ordered, Instant now, Duration claimFor)
      throws StoreException {
    if (max <= 0) {
      return List.of();
    }
    return bookkeeping(c -> {
      String columns = "seq, id, route, method, path, query, headers, body, attempts, budget_used, budget_from, "
          + "received_at, policy, possibly_delivered, next_at";
      String sql;
      if (ordered) {
        // The route's oldest undelivered webhook, only when nothing of the route is in flight and it is due.
        sql = "SELECT " + columns + " FROM webhooks WHERE route = ? AND state = 'pending' AND NOT EXISTS "
            + "(SELECT 1 FROM webhooks WHERE route = ? AND state = 'in_flight') AND route NOT IN "
            + "(SELECT route FROM paused_routes) ORDER BY seq LIMIT 1";
      } else {
        sql = "SELECT " + columns + " FROM webhooks WHERE route = ? AND state = 'pending' AND next_at <= ? AND route "
            + "NOT IN (SELECT route FROM paused_routes) ORDER BY next_at, seq LIMIT ?";
      }
      List<Delivery> claimed = new ArrayList<>();
      try (PreparedStatement q = c.prepareStatement(sql)) {
        q.setString(1, route);
        if (ordered) {
          q.setString(2, route);
        } else {
          q.setLong(2, now.toEpochMilli());
          q.setInt(3, max);
        }
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            if (ordered && rs.getLong(15) > now.toEpochMilli()) {
              break; // the head is not due yet: the rest waits behind it
            }
            claimed.add(new Delivery(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), decodeHeaders(rs.getString(7)), rs.getBytes(8), rs.getInt(9) + 1, rs.getInt(10),
                Instant.ofEpochMilli(rs.getLong(11)), Instant.ofEpochMilli(rs.getLong(12)),
                JSON.readValue(rs.getString(13), DeliveryPolicy.class), rs.getInt(14) != 0,
                newClaim()));
          }
        }
      }
      try (PreparedStatement u = c.prepareStatement(
          "UPDATE webhooks SET state = 'in_flight', attempts = attempts + 1, claimed_until = ?, claim = ? WHERE seq = ?")) {
        for (Delivery d : claimed) {
          u.setLong(1, now.plus(claimFor).toEpochMilli());
          u.setString(2, d.claim());
          u.setLong(3, d.seq());
          u.addBatch();
        }
        u.executeBatch();
      }
      return claimed;
    });
  }

  @Override
  public void finish(Finish f) throws StoreException {
    bookkeeping(c -> {
      Delivery d = f.delivery();
      AttemptRecord a = f.record();
      insertAttempt(c, d.seq(), a);
      boolean done = !f.state().equals("pending");
      try (PreparedStatement u = c.prepareStatement("UPDATE webhooks SET state = ?, claimed_until = NULL, next_at = ?, "
          + "budget_used = budget_used + ?, possibly_delivered = max(possibly_delivered, ?), last_status = ?, "
          + "last_error = ?, finished_at = ?, claim = NULL WHERE seq = ? AND state = 'in_flight' AND claim = ?")) {
        u.setString(1, f.state());
        u.setLong(2, f.nextAt() == null ? a.startedAt().toEpochMilli() : f.nextAt().toEpochMilli());
        u.setInt(3, f.countsAgainstBudget() ? 1 : 0);
        u.setInt(4, f.possiblyDelivered() ? 1 : 0);
        setNullableInt(u, 5, a.status());
        u.setString(6, a.error());
        if (done) {
          u.setLong(7, a.startedAt().toEpochMilli() + a.durationMillis());
        } else {
          u.setNull(7, java.sql.Types.INTEGER);
        }
        u.setLong(8, d.seq());
        u.setString(9, d.claim());
        if (u.executeUpdate() == 0) {
          return null; // the claim ran out and the webhook went back to the queue: this outcome is stale
        }
      }
      if (f.pauseRoute() != null) {
        try (PreparedStatement p = c.prepareStatement(
            "INSERT OR IGNORE INTO paused_routes (route, since, reason) VALUES (?, ?, ?)")) {
          p.setString(1, d.route());
          p.setLong(2, a.startedAt().toEpochMilli());
          p.setString(3, f.pauseRoute());
          p.executeUpdate();
        }
      }
      return null;
    });
  }

  @Override
  public int releaseExpired(Instant now) throws StoreException {
    return bookkeeping(c -> {
      try (PreparedStatement u = c.prepareStatement("UPDATE webhooks SET state = 'pending', claimed_until = NULL, "
          + "claim = NULL, next_at = ?, possibly_delivered = 1, last_error = 'the attempt never finished' "
          + "WHERE state = 'in_flight' AND claimed_until < ?")) {
        u.setLong(1, now.toEpochMilli());
        u.setLong(2, now.toEpochMilli());
        return u.executeUpdate();
      }
    });
  }

  @Override
  public int expire(Instant deliveredBefore, Instant now) throws StoreException {
    return bookkeeping(c -> {
      int n;
      try (PreparedStatement a = c.prepareStatement("DELETE FROM attempts WHERE webhook_seq IN (SELECT seq FROM webhooks "
          + "WHERE state = 'delivered' AND finished_at < ?)");
          PreparedStatement w = c.prepareStatement("DELETE FROM webhooks WHERE state = 'delivered' AND finished_at < ?");
          PreparedStatement i = c.prepareStatement("DELETE FROM delivery_ids WHERE expires_at <= ?")) {
        a.setLong(1, deliveredBefore.toEpochMilli());
        a.executeUpdate();
        w.setLong(1, deliveredBefore.toEpochMilli());
        n = w.executeUpdate();
        i.setLong(1, now.toEpochMilli());
        i.executeUpdate();
      }
      return n;
    });
  }

  // ---- operations

  private record Where(String sql, List<Object> args) {}

  private static Where where(Selection s) {
    List<String> clauses = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    if (!s.ids().isEmpty()) {
      clauses.add("id IN (" + String.join(", ", java.util.Collections.nCopies(s.ids().size(), "?")) + ")");
      args.addAll(s.ids());
    }
    if (s.state() != null) {
      clauses.add("state = ?");
      args.add(s.state());
    }
    if (s.route() != null) {
      clauses.add("route = ?");
      args.add(s.route());
    }
    if (s.since() != null) {
      clauses.add("received_at >= ?");
      args.add(s.since().toEpochMilli());
    }
    if (s.until() != null) {
      clauses.add("received_at < ?");
      args.add(s.until().toEpochMilli());
    }
    return new Where(clauses.isEmpty() ? "1 = 1" : String.join(" AND ", clauses), args);
  }

  private static void bind(PreparedStatement p, List<Object> args, int from) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      p.setObject(from + i, args.get(i));
    }
  }

  private static final String SUMMARY = "id, route, method, path, state, received_at, attempts, next_at, last_status, "
      + "last_error, finished_at, possibly_delivered, length(body), query, headers, body, seq";

  private static Summary summary(ResultSet rs) throws SQLException {
    String state = rs.getString(5);
    long finished = rs.getLong(11);
    Instant finishedAt = rs.wasNull() ? null : Instant.ofEpochMilli(finished);
    Integer status = rs.getInt(9);
    if (rs.wasNull()) {
      status = null;
    }
    return new Summary(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), state,
        Instant.ofEpochMilli(rs.getLong(6)), rs.getInt(7), state.equals("pending") ? Instant.ofEpochMilli(rs.getLong(8)) : null,
        status, rs.getString(10), finishedAt, rs.getInt(12) != 0, rs.getInt(13));
  }

  @Override
  public List<Summary> list(Selection s) throws StoreException {
    Where w = where(s);
    return read(c -> {
      List<Summary> out = new ArrayList<>();
      try (PreparedStatement q = c.prepareStatement("SELECT " + SUMMARY + " FROM webhooks WHERE " + w.sql()
          + " ORDER BY seq DESC LIMIT ?")) {
        bind(q, w.args(), 1);
        q.setInt(w.args().size() + 1, Math.max(1, s.limit()));
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            out.add(summary(rs));
          }
        }
      }
      return out;
    });
  }

  @Override
  public Optional<Detail> find(String id) throws StoreException {
    return read(c -> {
      try (PreparedStatement q = c.prepareStatement("SELECT " + SUMMARY + " FROM webhooks WHERE id = ?")) {
        q.setString(1, id);
        try (ResultSet rs = q.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          Summary summary = summary(rs);
          String query = rs.getString(14);
          Headers headers = decodeHeaders(rs.getString(15));
          byte[] body = rs.getBytes(16);
          long seq = rs.getLong(17);
          List<AttemptRecord> attempts = new ArrayList<>();
          try (PreparedStatement a = c.prepareStatement("SELECT attempt, started_at, duration_ms, status, error, outcome "
              + "FROM attempts WHERE webhook_seq = ? ORDER BY attempt")) {
            a.setLong(1, seq);
            try (ResultSet ar = a.executeQuery()) {
              while (ar.next()) {
                Integer status = ar.getInt(4);
                if (ar.wasNull()) {
                  status = null;
                }
                attempts.add(new AttemptRecord(ar.getInt(1), Instant.ofEpochMilli(ar.getLong(2)), ar.getLong(3), status,
                    ar.getString(5), ar.getString(6)));
              }
            }
          }
          return Optional.of(new Detail(summary, query, headers, body == null ? new byte[0] : body, attempts));
        }
      }
    });
  }

  @Override
  public int replay(Selection s, Instant now) throws StoreException {
    Where w = where(s);
    return write(c -> {
      try (PreparedStatement u = c.prepareStatement("UPDATE webhooks SET state = 'pending', next_at = ?, budget_used = 0, "
          + "budget_from = ?, finished_at = NULL, claimed_until = NULL WHERE state <> 'in_flight' AND " + w.sql())) {
        u.setLong(1, now.toEpochMilli());
        u.setLong(2, now.toEpochMilli());
        bind(u, w.args(), 3);
        return u.executeUpdate();
      }
    });
  }

  @Override
  public int purge(Selection s) throws StoreException {
    Where w = where(s);
    return write(c -> {
      try (PreparedStatement a = c.prepareStatement("DELETE FROM attempts WHERE webhook_seq IN (SELECT seq FROM webhooks "
          + "WHERE state <> 'in_flight' AND " + w.sql() + ")");
          PreparedStatement d = c.prepareStatement("DELETE FROM webhooks WHERE state <> 'in_flight' AND " + w.sql())) {
        bind(a, w.args(), 1);
        a.executeUpdate();
        bind(d, w.args(), 1);
        return d.executeUpdate();
      }
    });
  }

  @Override
  public boolean resume(String route) throws StoreException {
    return write(c -> {
      try (PreparedStatement d = c.prepareStatement("DELETE FROM paused_routes WHERE route = ?")) {
        d.setString(1, route);
        return d.executeUpdate() > 0;
      }
    });
  }

  @Override
  public Stats stats() throws StoreException {
    return read(c -> {
      Map<String, Map<String, Long>> counts = new TreeMap<>();
      Map<String, Instant> oldest = new TreeMap<>();
      Map<String, String> paused = new TreeMap<>();
      try (Statement s = c.createStatement()) {
        try (ResultSet rs = s.executeQuery("SELECT route, state, count(*), min(received_at) FROM webhooks GROUP BY route, state")) {
          while (rs.next()) {
            String route = rs.getString(1);
            String state = rs.getString(2);
            counts.computeIfAbsent(route, k -> new TreeMap<>()).put(state, rs.getLong(3));
            if (state.equals("pending") || state.equals("in_flight")) {
              Instant at = Instant.ofEpochMilli(rs.getLong(4));
              oldest.merge(route, at, (x, y) -> x.isBefore(y) ? x : y);
            }
          }
        }
        try (ResultSet rs = s.executeQuery("SELECT route, reason FROM paused_routes")) {
          while (rs.next()) {
            paused.put(rs.getString(1), rs.getString(2));
          }
        }
      }
      return new Stats(counts, oldest, paused);
    });
  }

  // ---- plumbing

  private static String newClaim() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  /** The last policy encoded: webhooks of one route configuration share one policy object. */
  private volatile Object[] lastPolicy = {null, null};

  private String policyJson(DeliveryPolicy policy) {
    Object[] last = lastPolicy;
    if (last[0] == policy) {
      return (String) last[1];
    }
    String json = encode(policy);
    lastPolicy = new Object[] {policy, json};
    return json;
  }

  private <T> T read(Work<T> work) throws StoreException {
    if (closed) {
      throw new StoreException("the webhook queue is closed", null);
    }
    synchronized (readConnection) {
      try {
        return work.run(readConnection);
      } catch (SQLException | IOException e) {
        throw new StoreException("the webhook queue could not read " + file + ": " + e.getMessage(), e);
      }
    }
  }

  private static void insertAttempt(Connection c, long seq, AttemptRecord a) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("INSERT OR REPLACE INTO attempts (webhook_seq, attempt, started_at, "
        + "duration_ms, status, error, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      p.setLong(1, seq);
      p.setInt(2, a.attempt());
      p.setLong(3, a.startedAt().toEpochMilli());
      p.setLong(4, a.durationMillis());
      setNullableInt(p, 5, a.status());
      p.setString(6, a.error());
      p.setString(7, a.outcome());
      p.executeUpdate();
    }
  }

  private static void setNullableInt(PreparedStatement p, int index, Integer value) throws SQLException {
    if (value == null) {
      p.setNull(index, java.sql.Types.INTEGER);
    } else {
      p.setInt(index, value);
    }
  }

  static String encodeHeaders(Headers headers) {
    List<List<String>> pairs = new ArrayList<>(headers.size());
    for (int i = 0; i < headers.size(); i++) {
      pairs.add(List.of(headers.name(i), headers.value(i)));
    }
    return encode(pairs);
  }

  static Headers decodeHeaders(String json) throws IOException {
    String[][] pairs = JSON.readValue(json, String[][].class);
    Headers.Builder b = Headers.builder();
    for (String[] p : pairs) {
      b.add(p[0], p[1]);
    }
    return b.build();
  }

  private static String encode(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing after a failure
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true; // the writer finishes what is queued, then stops
    try {
      writer.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (readConnection) {
      closeQuietly(readConnection);
    }
    closeQuietly(writeConnection);
    try {
      if (lock != null) {
        lock.release();
      }
      if (lockChannel != null) {
        lockChannel.close();
      }
    } catch (IOException ignored) {
      // the process is letting go of the file anyway
    }
  }
}
