package dev.portalgateway.host.portal;

import dev.portalgateway.portal.client.RelayClient;
import dev.portalgateway.portal.wire.Lease;
import dev.portalgateway.portal.wire.RelayInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns the name in {@code /peer/{name}/} into a lease ID. An ID is used as it is; a name is
 * looked up in the relay's lease list, which is remembered for a short while and fetched again on
 * a miss, so a lease that just registered is found without waiting for the cache to expire.
 */
final class LeaseResolver {
  /** Lease IDs: 26 characters of RFC 4648 base32. */
  private static final Pattern LEASE_ID = Pattern.compile("[A-Z2-7]{26}");

  private final Duration ttl;
  private final Duration timeout;
  private final SeenLeases seen;
  private volatile Snapshot snapshot = new Snapshot(Map.of(), 0);

  private record Snapshot(Map<String, String> idsByName, long fetchedAt) {}

  /** @param seen told every name and ID each lease list holds */
  LeaseResolver(Duration ttl, Duration timeout, SeenLeases seen) {
    this.ttl = ttl;
    this.timeout = timeout;
    this.seen = seen;
  }

  /** @return whether {@code nameOrId} has the form of a lease ID (and is used as one, unresolved) */
  static boolean isLeaseId(String nameOrId) {
    return LEASE_ID.matcher(nameOrId).matches();
  }

  /** @return the lease ID, or {@code null} when the relay knows no lease by that name */
  String resolve(String nameOrId, RelayClient relay) throws IOException {
    if (LEASE_ID.matcher(nameOrId).matches()) {
      return nameOrId;
    }
    Snapshot s = snapshot;
    String id = s.idsByName().get(nameOrId);
    boolean fresh = System.nanoTime() - s.fetchedAt() < ttl.toNanos();
    if (id != null && fresh) {
      return id;
    }
    return refresh(relay).get(nameOrId);
  }

  /** @return whether {@code nameOrId} is a live lease the last lease list named, or a lease ID */
  boolean isKnown(String nameOrId) {
    Snapshot s = snapshot;
    return s.idsByName().containsKey(nameOrId) || s.idsByName().containsValue(nameOrId);
  }

  /** Forgets what is known, after a lease turned out to be gone. */
  void invalidate() {
    snapshot = new Snapshot(Map.of(), 0);
  }

  private synchronized Map<String, String> refresh(RelayClient relay) throws IOException {
    Snapshot s = snapshot;
    if (System.nanoTime() - s.fetchedAt() < Duration.ofMillis(200).toNanos()) {
      return s.idsByName(); // another request just refreshed it
    }
    RelayInfo info = relay.relayInfo(timeout);
    Map<String, String> ids = new HashMap<>();
    for (Lease lease : info.leases()) {
      if (lease.identity() != null && lease.name() != null && !lease.name().isEmpty()) {
        ids.put(lease.name(), lease.identity().id());
      }
    }
    snapshot = new Snapshot(Map.copyOf(ids), System.nanoTime());
    seen.seen(ids.keySet());
    seen.seen(ids.values());
    return ids;
  }
}
