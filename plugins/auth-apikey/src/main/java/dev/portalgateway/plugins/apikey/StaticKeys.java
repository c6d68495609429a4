package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.CidrBlock;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Principal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The keys of {@code static_keys}: handed to the gateway in an environment variable or a file (a
 * container's mounted secret), read when the filter is made, at startup and at each configuration
 * reload. They sit beside the keys file and are never written to it.
 *
 * <p>A static key has the shape of a generated one ({@code sk_live_<id>_<secret>}), so clients
 * send it the same way, its id names it in logs, and its secret has as much entropy as the
 * gateway's own keys. The gateway keeps only the SHA-256 of each key and compares digests with
 * {@link MessageDigest#isEqual}, in constant time; bcrypt would protect nothing here, since the
 * key itself sits in the process's environment or in the file.
 */
final class StaticKeys {
  /** A static key: its name in the settings, the digest of its text, and what it may reach. */
  record Entry(String name, byte[] digest, KeyRing.Entry entry) {
    /** @return whether {@code presented} is this key, compared in constant time */
    boolean matches(ApiKey presented) {
      return MessageDigest.isEqual(digest, sha256(presented.text()));
    }

    @Override
    public String toString() {
      return "StaticKeys.Entry[" + name + ", id=" + entry.key().id() + "]"; // never the digest
    }
  }

  static final StaticKeys NONE = new StaticKeys(Map.of());

  /** A secret file holds one key and perhaps a line end; anything much longer is not one. */
  private static final long MAX_FILE_BYTES = 1024;

  private final Map<String, Entry> byId;

  private StaticKeys(Map<String, Entry> byId) {
    this.byId = byId;
  }

  /**
   * Reads every key of {@code settings.staticKeys()}.
   *
   * @param path the settings' key path, for messages ({@code plugins.auth-apikey})
   * @param env the environment ({@code System::getenv})
   * @param dataDirectory what relative {@code file} paths resolve against
   * @throws InvalidConfigException naming the entry and what is wrong, never the value
   */
  static StaticKeys load(ApiKeySettings settings, String path, Function<String, String> env, Path dataDirectory)
      throws InvalidConfigException {
    Map<String, Entry> byId = new LinkedHashMap<>();
    for (var e : settings.staticKeys().entrySet()) {
      String name = e.getKey();
      ApiKeySettings.StaticKey k = e.getValue();
      String where = path + ".static_keys." + name;
      String text;
      String source;
      if (k.env() != null) {
        source = "environment variable " + k.env();
        text = env.apply(k.env());
        if (text == null || text.isBlank()) {
          throw new InvalidConfigException(where + ".env: the environment variable " + k.env() + " is "
              + (text == null ? "not set" : "empty") + "; set it to a key made with 'portal-gateway new-key'");
        }
        where += ".env";
      } else {
        Path file = dataDirectory.resolve(k.file()).toAbsolutePath().normalize();
        source = "file " + file;
        text = readKeyFile(file, where + ".file");
        where += ".file";
      }
      ApiKey key = ApiKey.parse(text.strip());
      if (key == null) {
        throw new InvalidConfigException(where + ": the " + source + " does not hold an API key: the gateway takes "
            + "keys of the form sk_live_<id>_<secret> (an id of 8 to 32 letters and digits, a secret of 32 to 64); "
            + "make one with 'portal-gateway new-key'");
      }
      Entry previous = byId.get(key.id());
      if (previous != null) {
        throw new InvalidConfigException(where + ": holds the same key id as static_keys." + previous.name()
            + "; give each client a key of its own");
      }
      StoredKey stored = new StoredKey(key.id(), name, null, k.leases(), k.scopes(), k.cidrs(), false, null, null,
          false, null, null, null);
      Principal principal = new Principal(key.id(), name, ApiKeyFilter.SOURCE, Set.copyOf(k.scopes()));
      KeyRing.Entry entry = new KeyRing.Entry(stored, k.cidrs().stream().map(CidrBlock::parse).toList(), principal);
      byId.put(key.id(), new Entry(name, sha256(key.text()), entry));
    }
    return byId.isEmpty() ? NONE : new StaticKeys(Map.copyOf(byId));
  }

  /** @return the static key with this id, or {@code null} */
  Entry get(String id) {
    return byId.get(id);
  }

  /** @return the ids of the static keys, which the keys file may not use */
  Set<String> ids() {
    return byId.keySet();
  }

  /** @return how many static keys there are */
  int size() {
    return byId.size();
  }

  private static String readKeyFile(Path file, String where) throws InvalidConfigException {
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new InvalidConfigException(where + ": " + file + " is larger than " + MAX_FILE_BYTES
            + " bytes; it must hold one key made with 'portal-gateway new-key'");
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new InvalidConfigException(where + ": " + file + " does not exist; mount the secret there, or fix the path");
    } catch (IOException e) {
      // The message of an I/O error names the file and the failure, never its contents.
      throw new InvalidConfigException(where + ": cannot read " + file + ": " + e.getMessage()
          + " (the gateway's user must be able to read it)", e);
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
