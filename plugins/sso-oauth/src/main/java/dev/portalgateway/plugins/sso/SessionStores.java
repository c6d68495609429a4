package dev.portalgateway.plugins.sso;

import dev.portalgateway.api.PluginContext;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The plugin's lasting session stores: one in memory, and one per Redis URL configured. They
 * outlive reloads (a reload must not log people out) and close when the gateway stops, the memory
 * store writing its file a last time.
 */
final class SessionStores implements AutoCloseable {
  private final PluginContext lifetime;
  private final Map<String, SessionStore> stores = new ConcurrentHashMap<>();

  SessionStores(PluginContext lifetime) {
    this.lifetime = lifetime;
  }

  SessionStore forSettings(SsoSettings.SessionSettings settings) throws IOException {
    String key = settings.store().equals("redis") ? "redis " + settings.redisUrl() + " " + settings.redisTimeout() : "memory";
    try {
      return stores.computeIfAbsent(key, k -> {
        try {
          return settings.store().equals("redis")
              ? new RedisSessionStore(settings.redisUrl(), settings.redisTimeout())
              : new MemorySessionStore(lifetime.dataDirectory(), lifetime.clock(), lifetime.scheduler());
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
  }

  @Override
  public void close() {
    stores.values().forEach(SessionStore::close);
  }
}
