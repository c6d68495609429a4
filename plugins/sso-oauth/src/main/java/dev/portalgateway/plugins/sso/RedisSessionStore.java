package dev.portalgateway.plugins.sso;

import dev.portalgateway.redis.RedisClient;
import dev.portalgateway.redis.RedisEndpoint;
import java.io.IOException;
import java.time.Duration;

/**
 * Sessions in Redis, shared by every gateway that points at it: {@code SET ... PX} with the
 * session's time to live, {@code GETDEL} for a login's one-time state. Keys start with
 * {@code portal-gateway:sso:}. Uses the project's Redis client (deadlines on every wait).
 */
final class RedisSessionStore implements SessionStore {
  private static final String PREFIX = "portal-gateway:sso:";

  private final RedisClient client;

  RedisSessionStore(String url, Duration timeout) {
    this.client = new RedisClient(RedisEndpoint.parse(url), timeout, timeout, 16, Duration.ofSeconds(1));
  }

  @Override
  public String get(String key) throws IOException {
    return (String) call("GET", PREFIX + key);
  }

  @Override
  public void put(String key, String value, Duration ttl) throws IOException {
    call("SET", PREFIX + key, value, "PX", Long.toString(Math.max(1, ttl.toMillis())));
  }

  @Override
  public String take(String key) throws IOException {
    return (String) call("GETDEL", PREFIX + key);
  }

  @Override
  public void delete(String key) throws IOException {
    call("DEL", PREFIX + key);
  }

  private Object call(String... command) throws IOException {
    try {
      return client.send(command);
    } catch (RedisClient.ErrorReply e) {
      throw new IOException("Redis at " + client.endpoint().redacted() + " answered " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
