package dev.portalgateway.plugins.apikey;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;

/** Keys for tests: real secrets, real bcrypt hashes at the lowest cost bcrypt allows, so tests stay fast. */
final class TestKeys {
  static final SecureRandom RANDOM = new SecureRandom();
  static final int COST = 4;

  private TestKeys() {}

  /** A new key and its stored form, reaching {@code leases}. */
  record Issued(ApiKey key, StoredKey stored) {
    String text() {
      return key.text();
    }

    Issued with(java.util.function.UnaryOperator<StoredKey> change) {
      return new Issued(key, change.apply(stored));
    }
  }

  static Issued issue(String name, String... leases) {
    ApiKey key = ApiKey.generate(RANDOM);
    return new Issued(key, new StoredKey(key.id(), name, KeyVerifier.hash(key.secret(), COST), List.of(leases), List.of(),
        List.of(), false, Instant.parse("2026-11-01T00:00:00Z"), null, false, null, null, null));
  }

  static StoredKey withScopes(StoredKey k, String... scopes) {
    return new StoredKey(k.id(), k.name(), k.hash(), k.leases(), List.of(scopes), k.cidrs(), k.allowQueryKey(), k.created(),
        k.expires(), k.disabled(), k.revoked(), k.previousHash(), k.previousHashExpires());
  }

  static StoredKey withCidrs(StoredKey k, String... cidrs) {
    return new StoredKey(k.id(), k.name(), k.hash(), k.leases(), k.scopes(), List.of(cidrs), k.allowQueryKey(), k.created(),
        k.expires(), k.disabled(), k.revoked(), k.previousHash(), k.previousHashExpires());
  }

  static StoredKey withQueryKeyAllowed(StoredKey k) {
    return new StoredKey(k.id(), k.name(), k.hash(), k.leases(), k.scopes(), k.cidrs(), true, k.created(),
        k.expires(), k.disabled(), k.revoked(), k.previousHash(), k.previousHashExpires());
  }

  static StoredKey expiringAt(StoredKey k, Instant expires) {
    return new StoredKey(k.id(), k.name(), k.hash(), k.leases(), k.scopes(), k.cidrs(), k.allowQueryKey(), k.created(),
        expires, k.disabled(), k.revoked(), k.previousHash(), k.previousHashExpires());
  }

  static StoredKey withLeases(StoredKey k, String... leases) {
    return new StoredKey(k.id(), k.name(), k.hash(), List.of(leases), k.scopes(), k.cidrs(), k.allowQueryKey(), k.created(),
        k.expires(), k.disabled(), k.revoked(), k.previousHash(), k.previousHashExpires());
  }
}
