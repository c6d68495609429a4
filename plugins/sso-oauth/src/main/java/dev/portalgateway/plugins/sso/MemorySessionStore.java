package dev.portalgateway.plugins.sso;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Sessions of one gateway: a map in memory, written to {@code sessions.json} in the plugin's data
 * directory (mode 0600) every 10 s when it changed and when the gateway stops, and read back at
 * start, so that a restart does not log everyone out. Expired entries are dropped as they are met
 * and by the periodic write.
 */
final class MemorySessionStore implements SessionStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String FILE = "sessions.json";

  record Entry(String value, long expiresAt) {}

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Path file;
  private final Clock clock;
  private volatile boolean dirty;

  MemorySessionStore(Path dataDirectory, Clock clock, ScheduledExecutorService scheduler) throws IOException {
    this.file = dataDirectory.resolve(FILE);
    this.clock = clock;
    if (Files.exists(file)) {
      try {
        Map<String, Entry> saved = JSON.readValue(file.toFile(), new TypeReference<HashMap<String, Entry>>() {});
        long now = clock.millis();
        saved.forEach((k, e) -> {
          if (e.expiresAt() > now) {
            entries.put(k, e);
          }
        });
      } catch (IOException e) {
        // A damaged file costs people a login, not the gateway its start.
        Files.move(file, file.resolveSibling(FILE + ".unreadable"), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    scheduler.scheduleWithFixedDelay(this::saveQuietly, 10, 10, TimeUnit.SECONDS);
  }

  @Override
  public String get(String key) {
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (e.expiresAt() <= clock.millis()) {
      entries.remove(key, e);
      return null;
    }
    return e.value();
  }

  @Override
  public void put(String key, String value, Duration ttl) {
    entries.put(key, new Entry(value, clock.millis() + ttl.toMillis()));
    dirty = true;
  }

  @Override
  public String take(String key) {
    Entry e = entries.remove(key);
    dirty = true;
    return e == null || e.expiresAt() <= clock.millis() ? null : e.value();
  }

  @Override
  public void delete(String key) {
    entries.remove(key);
    dirty = true;
  }

  private void saveQuietly() {
    try {
      save();
    } catch (IOException e) {
      // tried again in 10 s; sessions stay in memory meanwhile
    }
  }

  synchronized void save() throws IOException {
    if (!dirty) {
      return;
    }
    dirty = false;
    long now = clock.millis();
    entries.values().removeIf(e -> e.expiresAt() <= now);
    Path tmp = Files.createTempFile(file.getParent(), "sessions", ".tmp");
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException notPosix) {
      // the data directory's own permissions protect it
    }
    JSON.writeValue(tmp.toFile(), new HashMap<>(entries));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void close() {
    saveQuietly();
  }
}
