package dev.portalgateway.plugins.sso;

import java.io.IOException;
import java.time.Duration;

/**
 * Where browser sessions and logins in progress live: text values under string keys, each with a
 * time to live. In memory (kept in the data directory across restarts) for one gateway, in Redis
 * for several, so that a login started on one replica finishes on another.
 */
interface SessionStore extends AutoCloseable {
  /** @return the value, or null when there is none or it expired */
  String get(String key) throws IOException;

  /** Stores a value for {@code ttl}. */
  void put(String key, String value, Duration ttl) throws IOException;

  /** @return the value, removed at once, so that only one caller ever gets it (a login's state) */
  String take(String key) throws IOException;

  void delete(String key) throws IOException;

  @Override
  void close();
}
