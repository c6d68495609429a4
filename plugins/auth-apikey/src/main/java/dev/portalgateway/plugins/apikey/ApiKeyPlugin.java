package dev.portalgateway.plugins.apikey;

import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginCommand;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code auth-apikey}: every request needs an API key, and each key reaches only the leases it
 * was issued for. Keys live as bcrypt hashes in a YAML keys file that the gateway reloads when it
 * changes; the {@code add-key}, {@code list-keys}, {@code revoke-key} and {@code rotate-key}
 * commands manage it. See docs/plugins/auth-apikey.md.
 */
public final class ApiKeyPlugin implements GatewayPlugin {
  /** The name that enables the plugin. */
  public static final String NAME = "auth-apikey";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Phase phase() {
    return Phase.AUTHENTICATE;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION; // compiled in: the API this jar was built against
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    ApiKeySettings settings = ApiKeySettings.from(config);
    KeysFile file = new KeysFile(settings.keysPath(context.dataDirectory()));
    PluginMetrics metrics = context.metrics();
    PluginMetrics.Gauge keyCount = metrics.gauge("keys", "Keys in the keys file, revoked and expired ones included.");
    PluginMetrics.Counter reloads = metrics.counter("keys_file_reloads_total",
        "Reloads of the keys file: applied, or refused (the previous keys stay in force).", "result");
    // At 0 until the first reload, so that an alert on increase(...{result="refused"}) sees the first refusal.
    reloads.add(0, "applied");
    reloads.add(0, "refused");
    PluginMetrics.Counter bcryptRuns = metrics.counter("bcrypt_checks_total",
        "bcrypt computations; each distinct key needs one until its cache entry expires.");
    // Read before anything is started, so that a missing variable or secret file fails the
    // configuration without leaving a thread or a pool behind.
    StaticKeys staticKeys = StaticKeys.load(settings, config.path(), System::getenv, context.dataDirectory());
    KeyVerifier verifier = new KeyVerifier(settings.cacheSize(), settings.cacheTtl(), settings.negativeCacheTtl(),
        bcryptRuns::inc);
    KeyRingSource keys;
    try {
      keys = new KeyRingSource(file, staticKeys.ids(), new KeyRingSource.Listener() {
        @Override
        public void reloaded(KeyRing ring, Map<String, String> changes) {
          reloads.inc("applied");
          keyCount.set(ring.size());
          verifier.forget(changes.keySet()); // results for changed keys are stale; the rest stay
          Map<String, Object> fields = new LinkedHashMap<>();
          fields.put("keys_file", file.path().toString());
          fields.put("keys", ring.size());
          fields.put("changed", changes.size());
          context.event(Level.INFO, "keys file reloaded", fields);
          changes.forEach((id, change) -> {
            KeyRing.Entry e = change.equals("removed") ? null : ring.get(id);
            Audit.keyChange(context, id, change, e == null ? null : e.key().name(), "keys_file");
          });
        }

        @Override
        public void refused(String message) {
          reloads.inc("refused");
          context.event(Level.ERROR, "keys file refused; the previous keys stay in force",
              Map.of("keys_file", file.path().toString(), "error", message));
        }
      });
    } catch (KeysFileException e) {
      verifier.close();
      throw new InvalidConfigException(config.path() + ".keys_file: " + e.getMessage(), e);
    }
    keyCount.set(keys.current().size());
    announce(context, file, keys.current(), staticKeys);
    long every = settings.reloadInterval().toMillis();
    context.scheduler().scheduleWithFixedDelay(keys::poll, every, every, TimeUnit.MILLISECONDS);
    return new ApiKeyFilter(settings, keys, staticKeys, verifier,
        new FailureThrottle(settings.failureLimit(), settings.failureWindow()), context.clock(), new Audit(context));
  }

  @Override
  public List<PluginCommand> commands() {
    return KeyCommands.all();
  }

  private static void announce(PluginContext context, KeysFile file, KeyRing ring, StaticKeys staticKeys) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("keys_file", file.path().toString());
    fields.put("keys", ring.size());
    fields.put("static_keys", staticKeys.size());
    if (!Files.exists(file.path()) && staticKeys.size() == 0) {
      context.event(Level.WARNING, "no keys file yet: every request to a non-public route gets 401 until a key is added "
          + "with 'portal-gateway add-key --name NAME --generate --config FILE'", fields);
    } else {
      context.event(Level.INFO, "API keys loaded", fields);
    }
    if (file.readableByOthers()) {
      context.event(Level.WARNING, "the keys file is readable by other users; chmod 600 it", Map.of("keys_file",
          file.path().toString()));
    }
  }
}
