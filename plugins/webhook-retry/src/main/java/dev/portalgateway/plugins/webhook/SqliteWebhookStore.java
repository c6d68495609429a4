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
final class SqliteWebhookStore extends SqlWebhookStore {
  static final String FILE = "webhooks.db";
  private static final int MAX_BATCH = 512;
  private static final Duration WRITE_WAIT = Duration.ofSeconds(30);

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
      """,
      // 3: a route's due webhooks in due order, for claims and the loop's probes, however long the queue
      """
      CREATE INDEX webhooks_claim ON webhooks (route, state, next_at, seq)
      """);

  private final Path file;
  private final Connection writeConnection;
  private final Connection readConnection;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final BlockingQueue<Write<?>> writes = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile boolean closed;

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

  @Override
  <T> T write(Work<T> work, boolean durable) throws StoreException {
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

  @Override
  <T> T read(Work<T> work) throws StoreException {
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

  @Override
  void lockRoute(Connection c, String route) {
    // One writer thread: a claim's transaction is already alone.
  }

  @Override
  String upsertDeliveryId() {
    return "INSERT OR REPLACE INTO delivery_ids (route, key, id, expires_at) VALUES (?, ?, ?, ?)";
  }

  @Override
  String upsertAttempt() {
    return "INSERT OR REPLACE INTO attempts (webhook_seq, attempt, started_at, duration_ms, status, error, outcome) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?)";
  }

  @Override
  String insertPausedRoute() {
    return "INSERT OR IGNORE INTO paused_routes (route, since, reason) VALUES (?, ?, ?)";
  }

  @Override
  String claimLocking() {
    return "";
  }

  @Override
  boolean syncClaims() {
    return false; // the write-ahead log survives a crash of the gateway; only the machine's own crash could lose it
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
