package dev.portalgateway.host.config;

import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.GatewayMetrics;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.runtime.RuntimeHolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Re-reads the configuration file when it changes and swaps in the new generation. Polling, not
 * a {@code WatchService}: it also sees files replaced through symlinks (Kubernetes ConfigMaps)
 * and editors that write a new file and rename it over the old one.
 */
public final class ConfigWatcher {
  private final Path file;
  private final ConfigLoader loader;
  private final RuntimeHolder runtimes;
  private final GatewayMetrics metrics;
  private FileTime lastModified;
  private long lastSize;

  public ConfigWatcher(Path file, ConfigLoader loader, RuntimeHolder runtimes, GatewayMetrics metrics) {
    this.file = file;
    this.loader = loader;
    this.runtimes = runtimes;
    this.metrics = metrics;
    stamp();
  }

  /** Checks every {@code interval} on {@code timer} until it shuts down. */
  public void start(ScheduledExecutorService timer, Duration interval) {
    long ms = interval.toMillis();
    timer.scheduleWithFixedDelay(this::checkQuietly, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void checkQuietly() {
    try {
      check();
    } catch (RuntimeException e) {
      JsonLog.error("config", "configuration reload failed unexpectedly; the current configuration stays", "error", e);
    }
  }

  /** Reloads if the file changed since the last check. */
  public void check() {
    FileTime modified;
    long size;
    try {
      modified = Files.getLastModifiedTime(file);
      size = Files.size(file);
    } catch (IOException e) {
      return; // mid-replacement, or removed: keep serving what we have and look again later
    }
    if (Objects.equals(modified, lastModified) && size == lastSize) {
      return;
    }
    lastModified = modified;
    lastSize = size;
    LoadedConfig current = runtimes.peek().config();
    LoadedConfig next;
    try {
      next = loader.load(file);
    } catch (ConfigException e) {
      metrics.configReloaded("rejected");
      JsonLog.error("config", "the changed configuration is invalid; the current configuration stays",
          "file", file.toString(), "error_detail", e.getMessage());
      return;
    }
    if (next.fingerprint().equals(current.fingerprint())) {
      metrics.configReloaded("unchanged"); // touched, or rewritten with the same text
      return;
    }
    try {
      runtimes.replace(next);
    } catch (ConfigException e) {
      metrics.configReloaded("rejected");
      JsonLog.error("config", "a plugin refused the changed configuration; the current configuration stays",
          "file", file.toString(), "error_detail", e.getMessage());
      return;
    }
    warnAboutRestartOnlySettings(current.config().server(), next.config().server());
    check("relay", current.config().relay(), next.config().relay());
    metrics.configReloaded("applied");
    JsonLog.info("config", "configuration reloaded", "file", file.toString(),
        "fingerprint", next.fingerprint().substring(0, 12), "plugins", String.join(",", runtimes.peek().pluginNames()));
  }

  private static void warnAboutRestartOnlySettings(ServerConfig was, ServerConfig now) {
    check("server.listen", was.listen(), now.listen());
    check("server.admin_listen", was.adminListen(), now.adminListen());
    check("server.plugins_dir", was.pluginsDir(), now.pluginsDir());
    check("server.http_provider", was.httpProvider(), now.httpProvider());
    check("server.request_read_timeout", was.requestReadTimeout(), now.requestReadTimeout());
    check("server.tls", was.tls(), now.tls());
    check("server.config_reload_interval", was.configReloadInterval(), now.configReloadInterval());
  }

  private static void check(String key, Object was, Object now) {
    if (!Objects.equals(was, now)) {
      JsonLog.warn("config", key + " changed; it takes effect after a restart", "key", key);
    }
  }

  private void stamp() {
    try {
      lastModified = Files.getLastModifiedTime(file);
      lastSize = Files.size(file);
    } catch (IOException e) {
      lastModified = null;
      lastSize = -1;
    }
  }
}
