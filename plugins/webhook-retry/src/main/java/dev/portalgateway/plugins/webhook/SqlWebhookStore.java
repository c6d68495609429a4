package dev.portalgateway.plugins.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portalgateway.api.Headers;
import java.io.IOException;
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

/**
 * The queue's SQL, shared by its two databases: SQLite in the data directory for one gateway
 * ({@link SqliteWebhookStore}) and PostgreSQL for several ({@link PostgresWebhookStore}). A
 * subclass decides how a write reaches the database (SQLite: one writer thread committing what
 * waits as one transaction; PostgreSQL: a transaction per write from a pool), and the few
 * statements whose syntax differs.
 */
abstract class SqlWebhookStore implements WebhookStore {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** Work on a connection, inside the transaction the subclass runs it in. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException, IOException;
  }

  /**
   * Runs {@code work} in a transaction and commits it.
   *
   * @param durable whether the commit must be on the disk when this returns (an accept, an
   *     operator's change) or only committed (the delivery loop's bookkeeping: a crash can lose
   *     the last of it, which only sends a webhook again, never loses one)
   */
  abstract <T> T write(Work<T> work, boolean durable) throws StoreException;

  /** Runs {@code work} on a connection for reading. */
  abstract <T> T read(Work<T> work) throws StoreException;

  /** Takes a lock on the route for the rest of the transaction, where several gateways claim. */
  abstract void lockRoute(Connection c, String route) throws SQLException;

  /** @return the statement that sets a route's delivery id: route, key, id, expires_at */
  abstract String upsertDeliveryId();

  /** @return the statement that records an attempt, replacing one of the same number */
  abstract String upsertAttempt();

  /** @return the statement that pauses a route unless it is already: route, since, reason */
  abstract String insertPausedRoute();

  /** @return what follows a claim's SELECT, such as {@code FOR UPDATE SKIP LOCKED} */
  abstract String claimLocking();

  /**
   * @return whether a claim must be synced before its attempt goes out: where a crash of the
   *     database itself could lose an unsynced claim, the attempt would go out again under the
   *     same number
   */
  abstract boolean syncClaims();

  final <T> T write(Work<T> work) throws StoreException {
    return write(work, true);
  }

  final <T> T bookkeeping(Work<T> work) throws StoreException {
    return write(work, false);
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
        try (PreparedStatement d = c.prepareStatement(upsertDeliveryId())) {
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
          + "last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq")) {
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
        try (ResultSet keys = i.executeQuery()) {
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
  public java.util.Set<String> routes() throws StoreException {
    return read(c -> {
      java.util.Set<String> routes = new java.util.TreeSet<>();
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT DISTINCT route FROM webhooks WHERE state IN ('pending', 'in_flight')")) {
        while (rs.next()) {
          routes.add(rs.getString(1));
        }
      }
      return routes;
    });
  }

  @Override
  public boolean hasDue(String route, Instant now) throws StoreException {
    return read(c -> {
      // One index probe (webhooks_claim), however long the queue: the loop asks this often.
      try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM webhooks WHERE route = ? AND state = 'pending' "
          + "AND next_at <= ? AND NOT EXISTS (SELECT 1 FROM paused_routes WHERE route = ?) LIMIT 1")) {
        q.setString(1, route);
        q.setLong(2, now.toEpochMilli());
        q.setString(3, route);
        try (ResultSet rs = q.executeQuery()) {
          return rs.next();
        }
      }
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
  public List<Delivery> claim(String route, int concurrency, boolean ordered, Instant now, Duration claimFor)
      throws StoreException {
    return write(c -> {
      lockRoute(c, route);
      // Claims that ran out (their gateway died, or hung) go back first, so they hold no slot.
      try (PreparedStatement u = c.prepareStatement("UPDATE webhooks SET state = 'pending', claimed_until = NULL, "
          + "claim = NULL, next_at = ?, possibly_delivered = 1, last_error = 'the attempt never finished' "
          + "WHERE route = ? AND state = 'in_flight' AND claimed_until < ?")) {
        u.setLong(1, now.toEpochMilli());
        u.setString(2, route);
        u.setLong(3, now.toEpochMilli());
        u.executeUpdate();
      }
      int inFlight;
      try (PreparedStatement q = c.prepareStatement("SELECT count(*) FROM webhooks WHERE route = ? AND state = 'in_flight'")) {
        q.setString(1, route);
        try (ResultSet rs = q.executeQuery()) {
          rs.next();
          inFlight = rs.getInt(1);
        }
      }
      // The route's limit counts every attempt in flight, whichever gateway runs it.
      int max = ordered ? (inFlight == 0 ? 1 : 0) : concurrency - inFlight;
      if (max <= 0) {
        return List.<Delivery>of();
      }
      String columns = "seq, id, route, method, path, query, headers, body, attempts, budget_used, budget_from, "
          + "received_at, policy, possibly_delivered, next_at";
      String sql;
      if (ordered) {
        // The route's oldest undelivered webhook, only when it is due: the rest wait behind it.
        sql = "SELECT " + columns + " FROM webhooks WHERE route = ? AND state = 'pending' AND route NOT IN "
            + "(SELECT route FROM paused_routes) ORDER BY seq LIMIT 1" + claimLocking();
      } else {
        sql = "SELECT " + columns + " FROM webhooks WHERE route = ? AND state = 'pending' AND next_at <= ? AND route "
            + "NOT IN (SELECT route FROM paused_routes) ORDER BY next_at, seq LIMIT ?" + claimLocking();
      }
      List<Delivery> claimed = new ArrayList<>();
      try (PreparedStatement q = c.prepareStatement(sql)) {
        q.setString(1, route);
        if (!ordered) {
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
    }, syncClaims());
  }

  @Override
  public void finish(Finish f) throws StoreException {
    bookkeeping(c -> {
      Delivery d = f.delivery();
      AttemptRecord a = f.record();
      insertAttempt(c, d.seq(), a);
      boolean done = !f.state().equals("pending");
      try (PreparedStatement u = c.prepareStatement("UPDATE webhooks SET state = ?, claimed_until = NULL, next_at = ?, "
          + "budget_used = budget_used + ?, possibly_delivered = CASE WHEN ? = 1 THEN 1 ELSE possibly_delivered END, "
          + "last_status = ?, "
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
        try (PreparedStatement p = c.prepareStatement(insertPausedRoute())) {
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

  private void insertAttempt(Connection c, long seq, AttemptRecord a) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(upsertAttempt())) {
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

}
