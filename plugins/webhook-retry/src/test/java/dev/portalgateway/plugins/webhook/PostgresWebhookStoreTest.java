package dev.portalgateway.plugins.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store contract on a real PostgreSQL server, and what only a shared database has to promise. */
class PostgresWebhookStoreTest extends WebhookStoreContract {
  private static PostgresServer server;
  private static int databases;

  @BeforeAll
  static void startServer() throws Exception {
    server = PostgresServer.start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  static WebhookSettings.PostgresSettings settings(String url) {
    return new WebhookSettings.PostgresSettings(url, PostgresServer.USER, "", 4, Duration.ofSeconds(1), Duration.ofSeconds(5));
  }

  @Override
  WebhookStore store() throws Exception {
    return PostgresWebhookStore.open(settings(server.createDatabase("contract_" + databases++)));
  }

  @Test
  void replicasStartingTogetherMigrateOnce() throws Exception {
    String url = server.createDatabase("together");
    ExecutorService pool = Executors.newFixedThreadPool(6);
    List<Future<WebhookStore>> stores = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      stores.add(pool.submit(() -> PostgresWebhookStore.open(settings(url))));
    }
    for (Future<WebhookStore> f : stores) {
      f.get().close();
    }
    pool.shutdown();
    try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*), max(version) FROM schema_migrations")) {
      rs.next();
      // Each version once, however many replicas raced: as many rows as the newest version.
      assertThat(rs.getInt(2)).isGreaterThanOrEqualTo(2);
      assertThat(rs.getInt(1)).isEqualTo(rs.getInt(2));
    }
  }

  @Test
  void whileTheDatabaseIsDownWritesFailQuicklyAndWorkAgainWhenItIsBack() throws Exception {
    String url = server.createDatabase("outage");
    try (WebhookStore store = PostgresWebhookStore.open(settings(url))) {
      store.accept(webhook("before", "hooks", "b", T0));
      server.crash();
      long start = System.nanoTime();
      assertThatThrownBy(() -> store.accept(webhook("during", "hooks", "b", T0))).isInstanceOf(StoreException.class)
          .hasMessageContaining("PostgreSQL at jdbc:postgresql://127.0.0.1:" + server.port());
      System.out.printf("an accept with the database down failed after %d ms%n", (System.nanoTime() - start) / 1_000_000);
      server.startAgain();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (true) {
        try {
          store.accept(webhook("after", "hooks", "b", T0));
          break;
        } catch (StoreException stillRecovering) {
          assertThat(System.nanoTime()).as("the pool reconnects").isLessThan(deadline);
          Thread.sleep(100);
        }
      }
      assertThat(store.find("before")).as("committed before the crash").isPresent();
      assertThat(store.find("during")).isEmpty();
      assertThat(store.find("after")).isPresent();
    }
  }
}
