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
 * @param staticKeys keys handed to the gateway from environment variables or secret files, by name
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
    Duration rotationOverlap,
    Map<String, StaticKey> staticKeys) {

  /**
   * One entry of {@code static_keys}: a key whose full text the gateway reads from an environment
   * variable or a file (a mounted secret) when the filter is made, instead of a bcrypt hash in
   * the keys file. Exactly one of {@code env} and {@code file} is set.
   *
   * @param env the environment variable that holds the key
   * @param file the file that holds the key; relative paths resolve against the plugin's data directory
   * @param leases the routes the key reaches, as in the keys file
   * @param scopes the key's scopes
   * @param cidrs the client addresses the key may be used from; empty for anywhere
   */
  record StaticKey(String env, String file, List<String> leases, List<String> scopes, List<String> cidrs) {
    /** Fills in empty lists. */
    StaticKey {
      leases = leases == null ? List.of() : List.copyOf(leases);
      scopes = scopes == null ? List.of() : List.copyOf(scopes);
      cidrs = cidrs == null ? List.of() : List.copyOf(cidrs);
    }
  }

  private static final java.util.regex.Pattern ENV_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

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
    staticKeys = staticKeys == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(staticKeys));
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
    for (var e : s.staticKeys().entrySet()) {
      staticKey(e.getKey(), e.getValue(), p + ".static_keys." + e.getKey());
    }
    return s;
  }

  private static void staticKey(String name, StaticKey k, String key) throws InvalidConfigException {
    if (k == null) {
      throw new InvalidConfigException(key + ": give env (an environment variable) or file (a secret file), and leases");
    }
    if (name.isBlank() || name.length() > 100 || name.chars().anyMatch(Character::isISOControl)) {
      throw new InvalidConfigException(key + ": the name must be 1 to 100 printable characters");
    }
    if ((k.env() == null) == (k.file() == null)) {
      throw new InvalidConfigException(key + ": give exactly one of env (an environment variable) and file (a secret file)");
    }
    if (k.env() != null && !ENV_NAME.matcher(k.env()).matches()) {
      throw new InvalidConfigException(key + ".env: '" + k.env() + "' is not an environment variable name; "
          + "write the variable's name (N8N_WEBHOOK_KEY), not the key and not ${...}");
    }
    if (k.file() != null && k.file().isBlank()) {
      throw new InvalidConfigException(key + ".file: must name a file");
    }
    if (k.leases().isEmpty() || k.leases().stream().anyMatch(l -> l == null || l.isBlank())) {
      throw new InvalidConfigException(key + ".leases: list the routes the key reaches (lease names, IDs, upstream names or \"*\")");
    }
    if (k.scopes().stream().anyMatch(v -> v == null || v.isBlank())) {
      throw new InvalidConfigException(key + ".scopes: a scope is empty");
    }
    blocks(k.cidrs(), key + ".cidrs");
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
