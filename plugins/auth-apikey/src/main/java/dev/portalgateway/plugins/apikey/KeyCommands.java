package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.CidrBlock;
import dev.portalgateway.api.CommandContext;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginCommand;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The key lifecycle on the command line: {@code add-key}, {@code list-keys}, {@code revoke-key}
 * and {@code rotate-key}, all against the keys file of the {@code --config} file's
 * {@code plugins.auth-apikey} settings, and {@code new-key}, which only prints a key for
 * {@code static_keys}. A new key is printed once, on standard output, and is never written
 * anywhere else.
 */
final class KeyCommands {
  private static final SecureRandom RANDOM = new SecureRandom();

  private KeyCommands() {}

  static List<PluginCommand> all() {
    return List.of(
        command("add-key", "make a new API key and print it once",
            "--name NAME --generate [--leases a,b|*] [--scopes x,y] [--cidrs 10.0.0.0/8,::1] [--expires 30d|2027-01-01T00:00:00Z] [--allow-query-key]",
            KeyCommands::addKey),
        command("list-keys", "list the API keys (ids, names, leases, status; never secrets or hashes)", "[--json]",
            KeyCommands::listKeys),
        command("revoke-key", "revoke an API key at once", "ID", KeyCommands::revokeKey),
        command("rotate-key", "give a key a new secret; the old one works for the overlap", "ID [--overlap 24h]",
            KeyCommands::rotateKey),
        command("new-key", "print a new key and store it nowhere: for static_keys (an environment variable or a secret file)",
            "", KeyCommands::newKey));
  }

  private interface Body {
    int run(Options options, CommandContext context, KeysFile file, ApiKeySettings settings)
        throws KeysFileException, UsageException;
  }

  private static final Map<String, List<String>> OPTIONS = Map.of(
      "add-key", List.of("--name", "--generate", "--leases", "--scopes", "--cidrs", "--expires", "--allow-query-key"),
      "list-keys", List.of("--json"),
      "revoke-key", List.of(),
      "rotate-key", List.of("--overlap"),
      "new-key", List.of());

  /** Thrown for bad usage; exit status 2. */
  private static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  private static PluginCommand command(String name, String summary, String usage, Body body) {
    return new PluginCommand() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String summary() {
        return summary;
      }

      @Override
      public String usage() {
        return usage;
      }

      @Override
      public int run(List<String> args, CommandContext context) throws InvalidConfigException {
        try {
          // Options first: a usage error stops before the data directory is looked for.
          Options options = Options.parse(args, OPTIONS.get(name));
          ApiKeySettings settings = ApiKeySettings.from(context.config());
          // new-key touches no file: it needs no data directory.
          KeysFile file = name.equals("new-key") ? null : new KeysFile(settings.keysPath(context.dataDirectory()));
          return body.run(options, context, file, settings);
        } catch (UsageException e) {
          context.err().println(name + ": " + e.getMessage());
          context.err().println("usage: " + name + (usage.isEmpty() ? "" : " " + usage) + " [--config FILE]");
          return 2;
        } catch (KeysFileException e) {
          context.err().println(name + ": " + e.getMessage());
          return 1;
        }
      }
    };
  }

  private static int addKey(Options o, CommandContext context, KeysFile file, ApiKeySettings settings)
      throws KeysFileException, UsageException {
    String name = o.required("--name");
    if (name.isBlank() || name.length() > 100 || name.chars().anyMatch(Character::isISOControl)) {
      throw new UsageException("--name must be 1 to 100 printable characters");
    }
    if (!o.flag("--generate")) {
      throw new UsageException("--generate is required: the gateway makes the key, so it has 256 bits of randomness "
          + "and is never typed into a shell history");
    }
    List<String> leases = o.list("--leases", List.of("*"));
    List<String> scopes = o.list("--scopes", List.of());
    List<String> cidrs = o.list("--cidrs", List.of());
    for (String c : cidrs) {
      try {
        CidrBlock.parse(c);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--cidrs: " + e.getMessage());
      }
    }
    Instant now = context.clock().instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expires = o.value("--expires") == null ? null : expiry(o.value("--expires"), now);
    if (expires != null && !expires.isAfter(now)) {
      throw new UsageException("--expires " + o.value("--expires") + " is not in the future");
    }
    ApiKey key = ApiKey.generate(RANDOM);
    StoredKey stored = new StoredKey(key.id(), name, KeyVerifier.hash(key.secret(), settings.bcryptCost()), leases,
        scopes, cidrs, o.flag("--allow-query-key"), now, expires, false, null, null, null);
    file.update(keys -> {
      if (keys.stream().anyMatch(k -> k.id().equals(stored.id()))) {
        // 62^12 ids: a collision means a broken random source, not bad luck.
        throw new IllegalArgumentException("a key with the new id " + stored.id() + " exists already; run add-key again");
      }
      return append(keys, stored);
    });
    Audit.keyChange(context, key.id(), "added", name, "add-key");
    PrintStream out = context.out();
    out.println("Added API key " + key.id() + " (\"" + name + "\") to " + file.path());
    out.println("  leases:  " + String.join(",", leases));
    out.println("  scopes:  " + (scopes.isEmpty() ? "(none)" : String.join(",", scopes)));
    out.println("  cidrs:   " + (cidrs.isEmpty() ? "(any address)" : String.join(",", cidrs)));
    out.println("  expires: " + (expires == null ? "never" : expires));
    printKeyOnce(out, key);
    if (o.value("--leases") == null) {
      context.err().println("note: this key reaches every lease; limit it with --leases NAME,...");
    }
    return 0;
  }

  private static int listKeys(Options o, CommandContext context, KeysFile file, ApiKeySettings settings)
      throws KeysFileException, UsageException {
    List<StoredKey> keys = file.read();
    Instant now = context.clock().instant();
    PrintStream out = context.out();
    if (o.flag("--json")) {
      for (StoredKey k : keys) {
        out.println(json(k, now));
      }
      return 0;
    }
    if (keys.isEmpty()) {
      out.println("No keys in " + file.path() + ". Add one with: add-key --name NAME --generate");
      return 0;
    }
    String format = "%-14s %-20s %-9s %-20s %-16s %-20s %s%n";
    out.printf(format, "ID", "NAME", "STATUS", "LEASES", "SCOPES", "EXPIRES", "CIDRS");
    for (StoredKey k : keys) {
      out.printf(format, k.id(), k.name(), k.statusAt(now), String.join(",", k.leases()),
          k.scopes().isEmpty() ? "-" : String.join(",", k.scopes()), k.expires() == null ? "never" : k.expires(),
          k.cidrs().isEmpty() ? "any" : String.join(",", k.cidrs()));
    }
    return 0;
  }

  private static int revokeKey(Options o, CommandContext context, KeysFile file, ApiKeySettings settings)
      throws KeysFileException, UsageException {
    String id = o.positional("ID");
    Instant now = context.clock().instant().truncatedTo(ChronoUnit.SECONDS);
    String[] outcome = {"missing", null};
    file.update(keys -> keys.stream().map(k -> {
      if (!k.id().equals(id)) {
        return k;
      }
      outcome[0] = k.disabled() ? "already" : "revoked";
      outcome[1] = k.name();
      return k.disabled() ? k : k.revokedAt(now);
    }).toList());
    switch (outcome[0]) {
      case "missing" -> {
        context.err().println("revoke-key: no key has the id " + id + " in " + file.path() + " (see list-keys)");
        return 1;
      }
      case "already" -> context.out().println("Key " + id + " was already revoked.");
      default -> {
        Audit.keyChange(context, id, "revoked", outcome[1], "revoke-key");
        context.out().println("Revoked key " + id + " (\"" + outcome[1] + "\"). A running gateway refuses it within "
            + settings.reloadInterval().toMillis() + " ms (reload_interval).");
      }
    }
    return 0;
  }

  private static int rotateKey(Options o, CommandContext context, KeysFile file, ApiKeySettings settings)
      throws KeysFileException, UsageException {
    String id = o.positional("ID");
    Duration overlap = o.value("--overlap") == null ? settings.rotationOverlap() : duration(o.value("--overlap"));
    Instant now = context.clock().instant().truncatedTo(ChronoUnit.SECONDS);
    ApiKey key = ApiKey.withNewSecret(RANDOM, id);
    String hash = KeyVerifier.hash(key.secret(), settings.bcryptCost());
    String[] problem = {"no key has the id " + id + " in " + file.path() + " (see list-keys)", null};
    file.update(keys -> keys.stream().map(k -> {
      if (!k.id().equals(id)) {
        return k;
      }
      if (k.disabled() || k.expiredAt(now)) {
        problem[0] = "key " + id + " is " + (k.disabled() ? "revoked" : "expired") + "; make a new one with add-key";
        return k;
      }
      problem[0] = null;
      problem[1] = k.name();
      return k.rotatedTo(hash, now.plus(overlap));
    }).toList());
    if (problem[0] != null) {
      context.err().println("rotate-key: " + problem[0]);
      return 1;
    }
    Audit.keyChange(context, id, "rotated", problem[1], "rotate-key");
    context.out().println("Rotated key " + id + ". The old secret works until " + now.plus(overlap) + ".");
    printKeyOnce(context.out(), key);
    return 0;
  }

  /**
   * A key for {@code static_keys}: the key alone on stdout, so that it can go straight into a
   * secret file or a variable ({@code portal-gateway new-key > secrets/n8n_key}); the note on stderr.
   */
  private static int newKey(Options o, CommandContext context, KeysFile file, ApiKeySettings settings)
      throws UsageException {
    o.noPositionals();
    ApiKey key = ApiKey.generate(RANDOM);
    context.out().println(key.text());
    context.err().println("note: this key (id " + key.id() + ") is stored nowhere; put it into the environment variable "
        + "or the secret file that a static_keys entry names (docs/plugins/auth-apikey.md#static-keys)");
    return 0;
  }

  private static void printKeyOnce(PrintStream out, ApiKey key) {
    out.println();
    out.println("The key is shown only this once. Store it now:");
    out.println();
    out.println("  " + key.text());
    out.println();
    out.println("export GATEWAY_KEY=" + key.text());
  }

  private static List<StoredKey> append(List<StoredKey> keys, StoredKey key) {
    List<StoredKey> all = new ArrayList<>(keys);
    all.add(key);
    return all;
  }

  private static String json(StoredKey k, Instant now) {
    StringBuilder sb = new StringBuilder("{");
    field(sb, "id", k.id()).append(',');
    field(sb, "name", k.name()).append(',');
    field(sb, "status", k.statusAt(now)).append(',');
    sb.append("\"leases\":").append(array(k.leases())).append(',');
    sb.append("\"scopes\":").append(array(k.scopes())).append(',');
    sb.append("\"cidrs\":").append(array(k.cidrs())).append(',');
    sb.append("\"allow_query_key\":").append(k.allowQueryKey()).append(',');
    field(sb, "created", k.created() == null ? null : k.created().toString()).append(',');
    field(sb, "expires", k.expires() == null ? null : k.expires().toString());
    return sb.append('}').toString();
  }

  private static String array(List<String> values) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < values.size(); i++) {
      sb.append(i == 0 ? "" : ",");
      quote(sb, values.get(i));
    }
    return sb.append(']').toString();
  }

  private static StringBuilder field(StringBuilder sb, String name, String value) {
    sb.append('"').append(name).append("\":");
    if (value == null) {
      return sb.append("null");
    }
    return quote(sb, value);
  }

  private static StringBuilder quote(StringBuilder sb, String value) {
    sb.append('"');
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"');
  }

  /** {@code 30d}, {@code 12h}, {@code 90m}, {@code 45s}, or a UTC time such as {@code 2027-01-01T00:00:00Z}. */
  private static Instant expiry(String text, Instant now) throws UsageException {
    if (text.contains("T")) {
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        throw new UsageException("--expires: '" + text + "' is not a UTC time such as 2027-01-01T00:00:00Z");
      }
    }
    return now.plus(duration(text));
  }

  private static Duration duration(String text) throws UsageException {
    String t = text.trim();
    if (t.length() >= 2 && t.substring(0, t.length() - 1).chars().allMatch(Character::isDigit)) {
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      switch (t.charAt(t.length() - 1)) {
        case 's': return Duration.ofSeconds(n);
        case 'm': return Duration.ofMinutes(n);
        case 'h': return Duration.ofHours(n);
        case 'd': return Duration.ofDays(n);
        default: break;
      }
    }
    throw new UsageException("'" + text + "' is not a duration such as 30d, 12h, 90m or 45s");
  }

  /** The command's arguments: {@code --name value}, {@code --name=value}, flags and one positional. */
  private static final class Options {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> positionals = new ArrayList<>();
    private static final Set<String> FLAGS = Set.of("--generate", "--allow-query-key", "--json");

    static Options parse(List<String> args, List<String> known) throws UsageException {
      Options o = new Options();
      for (int i = 0; i < args.size(); i++) {
        String a = args.get(i);
        if (!a.startsWith("--")) {
          o.positionals.add(a);
          continue;
        }
        int eq = a.indexOf('=');
        String name = eq < 0 ? a : a.substring(0, eq);
        if (!known.contains(name)) {
          throw new UsageException("unknown option " + name + (known.isEmpty() ? "" : "; options: " + String.join(" ", known)));
        }
        String value;
        if (eq >= 0) {
          value = a.substring(eq + 1);
        } else if (FLAGS.contains(name)) {
          value = "true";
        } else if (i + 1 < args.size()) {
          value = args.get(++i);
        } else {
          throw new UsageException(name + " needs a value");
        }
        if (o.values.put(name, value) != null) {
          throw new UsageException(name + " is given twice");
        }
      }
      return o;
    }

    String value(String name) {
      return values.get(name);
    }

    boolean flag(String name) {
      return "true".equals(values.get(name));
    }

    String required(String name) throws UsageException {
      String v = values.get(name);
      if (v == null) {
        throw new UsageException(name + " is required");
      }
      return v;
    }

    List<String> list(String name, List<String> otherwise) throws UsageException {
      String v = values.get(name);
      if (v == null) {
        return otherwise;
      }
      List<String> items = Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      if (items.isEmpty()) {
        throw new UsageException(name + " needs at least one value");
      }
      return items;
    }

    void noPositionals() throws UsageException {
      if (!positionals.isEmpty()) {
        throw new UsageException("takes no arguments, got '" + positionals.get(0) + "'");
      }
    }

    String positional(String what) throws UsageException {
      if (positionals.size() != 1) {
        throw new UsageException("give exactly one " + what);
      }
      return positionals.get(0);
    }
  }
}
