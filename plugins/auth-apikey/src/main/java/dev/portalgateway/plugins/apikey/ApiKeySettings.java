package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.CidrBlock;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The plugin's settings, everything under {@code plugins.auth-apikey}. Every key is optional;
 * docs/plugins/auth-apikey.md describes each one.
 *
 * @param keysFile the keys file; relative paths resolve against the plugin's data directory
 * @param reloadInterval how often the keys file is checked for changes
 * @param bcryptCost the bcrypt cost of new hashes (add-key, rotate-key), 10 to 16
 * @param publicLeases routes that skip authentication
 * @param allowedCidrs when not empty, only clients in these blocks get past the gateway
 * @param deniedCidrs clients in these blocks are refused, before any key is looked at
 * @param requiredScopes per route, the scopes a key must hold; {@code "*"} for every other route
 * @param cacheSize the most verification results to keep
 * @param cacheTtl how long a verified key is trusted without bcrypt
 * @param negativeCacheTtl how long a wrong key is remembered as wrong
 * @param failureLimit failed authentications per client address and window before 429; 0 for no limit
 * @param failureWindow the window of {@code failureLimit}
 * @param rotationOverlap how long rotate-key leaves the old secret valid
 */
record ApiKeySettings(
    String keysFile,
    Duration reloadInterval,
    Integer bcryptCost,
    List<String> publicLeases,
    List<String> allowedCidrs,
    List<String> deniedCidrs,
    Map<String, List<String>> requiredScopes,
    Integer cacheSize,
    Duration cacheTtl,
    Duration negativeCacheTtl,
    Integer failureLimit,
    Duration failureWindow,
    Duration rotationOverlap) {

  /** Applies the defaults. */
  ApiKeySettings {
    keysFile = keysFile == null || keysFile.isBlank() ? "keys.yaml" : keysFile;
    reloadInterval = reloadInterval == null ? Duration.ofSeconds(2) : reloadInterval;
    bcryptCost = bcryptCost == null ? 12 : bcryptCost;
    publicLeases = publicLeases == null ? List.of() : List.copyOf(publicLeases);
    allowedCidrs = allowedCidrs == null ? List.of() : List.copyOf(allowedCidrs);
    deniedCidrs = deniedCidrs == null ? List.of() : List.copyOf(deniedCidrs);
    requiredScopes = requiredScopes == null ? Map.of() : Map.copyOf(requiredScopes);
    cacheSize = cacheSize == null ? 10_000 : cacheSize;
    cacheTtl = cacheTtl == null ? Duration.ofMinutes(5) : cacheTtl;
    negativeCacheTtl = negativeCacheTtl == null ? Duration.ofMinutes(1) : negativeCacheTtl;
    failureLimit = failureLimit == null ? 10 : failureLimit;
    failureWindow = failureWindow == null ? Duration.ofMinutes(1) : failureWindow;
    rotationOverlap = rotationOverlap == null ? Duration.ofHours(24) : rotationOverlap;
  }

  /**
   * Binds and checks the settings.
   *
   * @throws InvalidConfigException naming the key and what is wrong
   */
  static ApiKeySettings from(PluginConfig config) throws InvalidConfigException {
    ApiKeySettings s = config.bind(ApiKeySettings.class);
    String p = config.path();
    if (s.bcryptCost() < 10 || s.bcryptCost() > 16) {
      throw new InvalidConfigException(p + ".bcrypt_cost: " + s.bcryptCost()
          + " is outside 10 to 16 (12 takes about a quarter of a second per new key, each step doubles it)");
    }
    positive(s.reloadInterval(), p + ".reload_interval");
    positive(s.cacheTtl(), p + ".cache_ttl");
    positive(s.negativeCacheTtl(), p + ".negative_cache_ttl");
    positive(s.failureWindow(), p + ".failure_window");
    if (s.rotationOverlap().isNegative()) {
      throw new InvalidConfigException(p + ".rotation_overlap: must not be negative");
    }
    if (s.cacheSize() < 1) {
      throw new InvalidConfigException(p + ".cache_size: must be at least 1");
    }
    if (s.failureLimit() < 0) {
      throw new InvalidConfigException(p + ".failure_limit: must be 0 (no limit) or more");
    }
    blocks(s.allowedCidrs(), p + ".allowed_cidrs");
    blocks(s.deniedCidrs(), p + ".denied_cidrs");
    for (var e : s.requiredScopes().entrySet()) {
      if (e.getValue() == null || e.getValue().stream().anyMatch(v -> v == null || v.isBlank())) {
        throw new InvalidConfigException(p + ".required_scopes." + e.getKey() + ": list the scope names, such as [\"mcp:call\"]");
      }
    }
    return s;
  }

  /** @return the keys file, relative paths resolved against {@code dataDirectory} */
  Path keysPath(Path dataDirectory) {
    return dataDirectory.resolve(keysFile).toAbsolutePath().normalize();
  }

  /** @return {@link #allowedCidrs()}, parsed */
  List<CidrBlock> allowedBlocks() {
    return allowedCidrs.stream().map(CidrBlock::parse).toList();
  }

  /** @return {@link #deniedCidrs()}, parsed */
  List<CidrBlock> deniedBlocks() {
    return deniedCidrs.stream().map(CidrBlock::parse).toList();
  }

  /** @return {@link #requiredScopes()} as sets, for lookups per request */
  Map<String, Set<String>> scopeSets() {
    Map<String, Set<String>> sets = new java.util.HashMap<>();
    requiredScopes.forEach((route, scopes) -> sets.put(route, Set.copyOf(scopes)));
    return Map.copyOf(sets);
  }

  private static void positive(Duration d, String key) throws InvalidConfigException {
    if (d.isZero() || d.isNegative()) {
      throw new InvalidConfigException(key + ": must be longer than zero");
    }
  }

  private static void blocks(List<String> cidrs, String key) throws InvalidConfigException {
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < cidrs.size(); i++) {
      try {
        CidrBlock.parse(cidrs.get(i));
      } catch (IllegalArgumentException | NullPointerException e) {
        bad.add(key + "[" + i + "]: " + (e.getMessage() == null ? "empty" : e.getMessage()));
      }
    }
    if (!bad.isEmpty()) {
      throw new InvalidConfigException(String.join("; ", bad));
    }
  }
}
