package dev.portalgateway.plugins.apikey;

import java.time.Instant;
import java.util.List;

/**
 * One key as the keys file holds it: never the key itself, only its bcrypt hash and what it may
 * reach. YAML keys are the snake_case forms of the components ({@code allow_query_key}).
 *
 * @param id the public key id, the part of the key between {@code sk_live_} and the secret
 * @param name a human name, such as the client that holds the key
 * @param hash the bcrypt hash of the secret ({@code $2a$}, {@code $2b$} or {@code $2y$})
 * @param leases the leases (names or IDs) the key reaches; {@code *} for all, {@code prefix-*} for
 *     names that start with {@code prefix-}
 * @param scopes what the key may do, checked against {@code required_scopes}
 * @param cidrs the client addresses the key may be used from; empty for anywhere
 * @param allowQueryKey whether the key may come in the {@code api_key} query parameter
 * @param created when the key was made
 * @param expires when the key stops working; {@code null} for never
 * @param disabled whether the key was revoked
 * @param revoked when the key was revoked, or {@code null}
 * @param previousHash the hash of the secret before the last rotation, still accepted until
 *     {@code previousHashExpires}
 * @param previousHashExpires when the previous secret stops working
 */
record StoredKey(
    String id,
    String name,
    String hash,
    List<String> leases,
    List<String> scopes,
    List<String> cidrs,
    boolean allowQueryKey,
    Instant created,
    Instant expires,
    boolean disabled,
    Instant revoked,
    String previousHash,
    Instant previousHashExpires) {

  /** Fills in empty lists. */
  StoredKey {
    leases = leases == null ? List.of() : List.copyOf(leases);
    scopes = scopes == null ? List.of() : List.copyOf(scopes);
    cidrs = cidrs == null ? List.of() : List.copyOf(cidrs);
  }

  /** @return this key, revoked at {@code now} */
  StoredKey revokedAt(Instant now) {
    return new StoredKey(id, name, hash, leases, scopes, cidrs, allowQueryKey, created, expires, true, now, null, null);
  }

  /** @return this key with a new hash, the current one still valid until {@code overlapEnds} */
  StoredKey rotatedTo(String newHash, Instant overlapEnds) {
    return new StoredKey(id, name, newHash, leases, scopes, cidrs, allowQueryKey, created, expires, disabled, revoked,
        hash, overlapEnds);
  }

  /** @return whether the key has expired at {@code now} */
  boolean expiredAt(Instant now) {
    return expires != null && !now.isBefore(expires);
  }

  /** @return "active", "revoked", "expired" or "rotating" (two secrets valid) at {@code now} */
  String statusAt(Instant now) {
    if (disabled) {
      return "revoked";
    }
    if (expiredAt(now)) {
      return "expired";
    }
    return previousHash != null && previousHashExpires != null && now.isBefore(previousHashExpires) ? "rotating" : "active";
  }
}
