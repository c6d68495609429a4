package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.CidrBlock;
import dev.portalgateway.api.Principal;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The keys of one version of the keys file, checked and indexed by id. Immutable: a reload builds
 * a new ring and swaps it in whole, so a request sees either the old keys or the new ones.
 */
final class KeyRing {
  /** A bcrypt hash: {@code $2a$}, {@code $2b$} or {@code $2y$}, a two-digit cost, 53 characters of salt and hash. */
  private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");

  /** A key with its client address blocks and the principal it authenticates, made once per reload. */
  record Entry(StoredKey key, List<CidrBlock> cidrs, Principal principal) {
    /** @return whether the key may be used from {@code address} */
    boolean allowsClient(InetAddress address) {
      return cidrs.isEmpty() || CidrBlock.anyContains(cidrs, address);
    }

    /** @return whether the key reaches {@code route}, a lease name or ID, or an upstream name */
    boolean allowsLease(String route) {
      for (String pattern : key.leases()) {
        if (pattern.equals("*") || pattern.equals(route)
            || (pattern.endsWith("*") && route.startsWith(pattern.substring(0, pattern.length() - 1)))) {
          return true;
        }
      }
      return false;
    }
  }

  static final KeyRing EMPTY = new KeyRing(Map.of());

  private final Map<String, Entry> byId;

  private KeyRing(Map<String, Entry> byId) {
    this.byId = byId;
  }

  /**
   * @param keys the keys as read from the file
   * @return the ring
   * @throws IllegalArgumentException naming the first bad key and what is wrong with it
   */
  static KeyRing of(List<StoredKey> keys) {
    Map<String, Entry> byId = new LinkedHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      StoredKey k = keys.get(i);
      String where = "keys[" + i + "]" + (k != null && k.id() != null ? " (id " + k.id() + ")" : "");
      if (k == null) {
        throw new IllegalArgumentException(where + " is empty");
      }
      if (!ApiKey.isId(k.id())) {
        throw new IllegalArgumentException(where + ": id must be 8 to 32 letters and digits");
      }
      if (k.hash() == null || !BCRYPT.matcher(k.hash()).matches()) {
        throw new IllegalArgumentException(where + ": hash must be a bcrypt hash ($2a$, $2b$ or $2y$); the file never holds keys themselves");
      }
      if (k.previousHash() != null && !BCRYPT.matcher(k.previousHash()).matches()) {
        throw new IllegalArgumentException(where + ": previous_hash must be a bcrypt hash");
      }
      if (k.leases().isEmpty()) {
        throw new IllegalArgumentException(where + ": leases is empty, so the key reaches nothing; list lease names, IDs or \"*\"");
      }
      List<CidrBlock> blocks = new java.util.ArrayList<>();
      for (String c : k.cidrs()) {
        try {
          blocks.add(CidrBlock.parse(c));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ": cidrs: " + e.getMessage());
        }
      }
      Principal principal = new Principal(k.id(), k.name(), ApiKeyFilter.SOURCE, Set.copyOf(k.scopes()));
      if (byId.put(k.id(), new Entry(k, List.copyOf(blocks), principal)) != null) {
        throw new IllegalArgumentException(where + ": another key has the same id");
      }
    }
    return new KeyRing(Map.copyOf(byId));
  }

  /** @return the key with this id, or {@code null} */
  Entry get(String id) {
    return byId.get(id);
  }

  /** @return how many keys there are */
  int size() {
    return byId.size();
  }

  private static String change(StoredKey before, StoredKey after) {
    if (after.disabled() && !before.disabled()) {
      return "revoked";
    }
    if (!after.hash().equals(before.hash()) && before.hash().equals(after.previousHash())) {
      return "rotated";
    }
    return "changed";
  }

  /** @return the ids that were added, removed or changed in {@code next}, with which of the three */
  Map<String, String> changesTo(KeyRing next) {
    Map<String, String> changes = new HashMap<>();
    Set<String> ids = new HashSet<>(byId.keySet());
    ids.addAll(next.byId.keySet());
    for (String id : ids) {
      Entry before = byId.get(id);
      Entry after = next.byId.get(id);
      if (before == null) {
        changes.put(id, "added");
      } else if (after == null) {
        changes.put(id, "removed");
      } else if (!Objects.equals(before.key(), after.key())) {
        changes.put(id, change(before.key(), after.key()));
      }
    }
    return changes;
  }
}
