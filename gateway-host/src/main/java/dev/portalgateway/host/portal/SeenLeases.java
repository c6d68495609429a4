package dev.portalgateway.host.portal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portalgateway.host.ops.JsonLog;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The leases (names and IDs) the relay has listed, and when each was last seen, kept in the data
 * directory so a restarted gateway still knows them. It decides what a client hears when a lease
 * is not there now: a lease that was there lately is an outage ({@code 503}, try again: a tunnel
 * restarting, a laptop asleep), a name never seen is unknown ({@code 404}). MCP clients drop a
 * session on a 404, so telling the two apart keeps sessions alive across restarts.
 *
 * <p>A name stays an outage for {@code window} after it was last seen, and, after the gateway
 * (re)connects to a relay, until the connection has been up a whole {@code window} without the
 * relay listing it: a gateway that just started cannot know yet that a lease is gone for good.
 */
final class SeenLeases {
  /** Bounds memory and the file: a public relay lists whatever anyone registers. */
  static final int MAX_ENTRIES = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Duration window;
  private final Clock clock;
  private final Map<String, Long> lastSeenMillis = new ConcurrentHashMap<>();
  private volatile long connectedSinceMillis = -1;
  private volatile boolean dirty;

  /**
   * @param file where the list is kept; read now if it exists (a damaged file is logged and ignored)
   * @param window how long a lease that is gone counts as an outage
   */
  SeenLeases(Path file, Duration window, Clock clock) {
    this.file = file;
    this.window = window;
    this.clock = clock;
    load();
  }

  /** Notes that the relay lists these names and IDs now. */
  void seen(Iterable<String> namesAndIds) {
    long now = clock.millis();
    for (String n : namesAndIds) {
      Long before = lastSeenMillis.put(n, now);
      if (before == null || now - before > 1000) {
        dirty = true;
      }
    }
    if (lastSeenMillis.size() > MAX_ENTRIES) {
      prune(now);
    }
  }

  /** The gateway's relay session is up from now on, or ended ({@code up} false). */
  void relayConnected(boolean up) {
    connectedSinceMillis = up ? clock.millis() : -1;
  }

  /**
   * @param nameOrId a route that the relay does not list now
   * @return how long ago it was last seen, when it still counts as an outage; {@code null} when
   *     it is unknown (never seen, or gone for longer than the window while the relay was up)
   */
  Duration outage(String nameOrId) {
    Long seen = lastSeenMillis.get(nameOrId);
    if (seen == null) {
      return null;
    }
    long now = clock.millis();
    long since = connectedSinceMillis;
    boolean recently = now - seen < window.toMillis();
    boolean relayNotUpLongEnough = since < 0 || now - since < window.toMillis();
    return recently || relayNotUpLongEnough ? Duration.ofMillis(Math.max(0, now - seen)) : null;
  }

  /** Writes the list when it changed; called now and again, and at shutdown. */
  void save() {
    if (!dirty) {
      return;
    }
    dirty = false;
    ObjectNode root = JSON.createObjectNode();
    root.put("version", 1);
    ObjectNode leases = root.putObject("last_seen_epoch_millis");
    lastSeenMillis.forEach(leases::put);
    try {
      Files.createDirectories(file.getParent());
      Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
      try {
        JSON.writeValue(tmp.toFile(), root);
        try {
          Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      dirty = true;
      JsonLog.warn("relay", "cannot save the leases seen, which tell an outage (503) from an unknown name (404) "
          + "after a restart", "file", file.toString(), "error", e);
    }
  }

  private void load() {
    if (!Files.isRegularFile(file)) {
      return;
    }
    try {
      JsonNode leases = JSON.readTree(file.toFile()).path("last_seen_epoch_millis");
      for (Iterator<Map.Entry<String, JsonNode>> it = leases.properties().iterator(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getValue().canConvertToLong() && lastSeenMillis.size() < MAX_ENTRIES) {
          lastSeenMillis.put(e.getKey(), e.getValue().asLong());
        }
      }
    } catch (IOException | RuntimeException e) {
      JsonLog.warn("relay", "ignoring a damaged list of the leases seen; leases not listed by the relay get 404 "
          + "until it lists them again", "file", file.toString(), "error", e);
    }
  }

  /** Drops the oldest entries beyond the bound. */
  private synchronized void prune(long now) {
    if (lastSeenMillis.size() <= MAX_ENTRIES) {
      return;
    }
    List<Map.Entry<String, Long>> entries = new ArrayList<>(lastSeenMillis.entrySet());
    entries.sort(Map.Entry.comparingByValue());
    for (int i = 0; i < entries.size() - MAX_ENTRIES; i++) {
      lastSeenMillis.remove(entries.get(i).getKey(), entries.get(i).getValue());
    }
    dirty = true;
  }
}
