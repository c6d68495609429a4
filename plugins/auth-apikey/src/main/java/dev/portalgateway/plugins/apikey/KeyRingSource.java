package dev.portalgateway.plugins.apikey;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The current keys, re-read from the keys file when it changes. {@link #poll()} runs on the
 * plugin's scheduler every {@code reload_interval}; a file that does not parse or check is
 * refused and the previous keys stay in force, so a typo never locks everyone out or lets anyone in.
 */
final class KeyRingSource {
  /** What a reload did, for the audit log and metrics. */
  interface Listener {
    void reloaded(KeyRing ring, Map<String, String> changes);

    void refused(String message);
  }

  private final KeysFile file;
  private final Set<String> reservedIds;
  private final Listener listener;
  private volatile KeyRing current;
  private KeysFile.Stamp stamp;
  private String lastError;

  /**
   * Reads the file once.
   *
   * @throws KeysFileException when the file exists but is not a valid keys file
   */
  KeyRingSource(KeysFile file, Listener listener) throws KeysFileException {
    this(file, Set.of(), listener);
  }

  /**
   * Reads the file once.
   *
   * @param reservedIds ids the file may not use: those of the static keys
   * @throws KeysFileException when the file exists but is not a valid keys file, or uses a reserved id
   */
  KeyRingSource(KeysFile file, Set<String> reservedIds, Listener listener) throws KeysFileException {
    this.file = file;
    this.reservedIds = Set.copyOf(reservedIds);
    this.listener = listener;
    try {
      this.stamp = file.stamp();
    } catch (java.io.IOException e) {
      throw new KeysFileException(file.path() + ": cannot read the keys file: " + e.getMessage(), e);
    }
    this.current = read();
  }

  /** @return the keys in force */
  KeyRing current() {
    return current;
  }

  /** Re-reads the keys file if it changed since the last look. */
  synchronized void poll() {
    KeysFile.Stamp now;
    try {
      now = file.stamp();
    } catch (java.io.IOException e) {
      refuse(file.path() + ": cannot read the keys file: " + e.getMessage());
      return;
    }
    if (now.equals(stamp)) {
      return;
    }
    try {
      KeyRing next = read();
      stamp = now;
      lastError = null;
      Map<String, String> changes = current.changesTo(next);
      current = next;
      listener.reloaded(next, changes);
    } catch (KeysFileException e) {
      stamp = now; // report a bad version once, not at every poll
      refuse(e.getMessage());
    }
  }

  /** The file's keys; an id that a static key has would make one id name two keys. */
  private KeyRing read() throws KeysFileException {
    KeyRing ring = file.readRing();
    for (String id : reservedIds) {
      if (ring.get(id) != null) {
        throw new KeysFileException(file.path() + ": the key id " + id + " is a static key's (static_keys); "
            + "an id names one key: remove this entry, or give the static key another key", null);
      }
    }
    return ring;
  }

  private void refuse(String message) {
    if (!Objects.equals(message, lastError)) {
      lastError = message;
      listener.refused(message);
    }
  }
}
