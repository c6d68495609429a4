package dev.portalgateway.host.plugin;

import dev.portalgateway.api.Connector;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.host.ops.JsonLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** What one plugin gets for one configuration generation. */
final class HostPluginContext implements PluginContext, AutoCloseable {
  private final LoadedPlugin plugin;
  private final PluginMetrics metrics;
  private final Clock clock;
  private final Path dataDirectory;
  private final System.Logger logger;
  private final Connector routes;
  private volatile ScheduledExecutorService scheduler;

  HostPluginContext(LoadedPlugin plugin, PluginMetrics metrics, Clock clock, Path gatewayDataDir, Connector routes) {
    this.routes = routes;
    this.plugin = plugin;
    this.metrics = metrics;
    this.clock = clock;
    this.dataDirectory = gatewayDataDir.resolve("plugins").resolve(plugin.name());
    this.logger = JsonLog.systemLogger("plugin." + plugin.name());
  }

  @Override
  public String pluginName() {
    return plugin.name();
  }

  @Override
  public System.Logger logger() {
    return logger;
  }

  @Override
  public void event(System.Logger.Level level, String message, java.util.Map<String, ?> fields) {
    JsonLog.write(level, "plugin." + plugin.name(), message, fields);
  }

  @Override
  public Connector routes() {
    return routes;
  }

  @Override
  public PluginMetrics metrics() {
    return metrics;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public synchronized ScheduledExecutorService scheduler() {
    if (scheduler == null) {
      // Created on first use: most plugins never schedule anything.
      AtomicInteger n = new AtomicInteger();
      ThreadFactory threads = r -> {
        Thread t = new Thread(r, "plugin-" + plugin.name() + "-" + n.incrementAndGet());
        t.setDaemon(true);
        t.setContextClassLoader(plugin.loader());
        return t;
      };
      scheduler = Executors.newSingleThreadScheduledExecutor(threads);
    }
    return scheduler;
  }

  @Override
  public Path dataDirectory() {
    try {
      return Files.createDirectories(dataDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the data directory " + dataDirectory
          + " of plugin " + plugin.name() + "; check server.data_dir and its permissions", e);
    }
  }

  @Override
  public void close() {
    ScheduledExecutorService s = scheduler;
    if (s != null) {
      s.shutdownNow();
    }
  }
}
