package dev.portalgateway.plugins.webhook;

import java.nio.file.Path;

/** Opens the store the settings name: SQLite in the data directory, or the shared PostgreSQL database. */
final class WebhookStores {
  private WebhookStores() {}

  /**
   * @param owner for SQLite, whether this is the gateway that delivers from the file (a command
   *     opens it as a guest); PostgreSQL has no owner, every replica delivers
   */
  static WebhookStore open(WebhookSettings settings, Path dataDirectory, boolean owner) throws StoreException {
    return settings.store().equals("postgres")
        ? PostgresWebhookStore.open(settings.postgres())
        : SqliteWebhookStore.open(dataDirectory, owner);
  }
}
