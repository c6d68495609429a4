package dev.portalgateway.host.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.CommandContext;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.LastingFactory;
import dev.portalgateway.api.PublicEndpoint;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.PluginCommand;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginMetrics;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import io.prometheus.client.CollectorRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;

/** The commands plugins add to the command line ({@code add-key}, ...), found in the plugin catalog. */
public final class PluginCommands {
  /** Names the gateway keeps for itself. */
  public static final Set<String> RESERVED = Set.of("serve", "validate-config", "version", "help", "demo", "relay",
      "tunnel", "demo-service");

  private record Entry(LoadedPlugin plugin, PluginCommand command) {}

  private final Map<String, Entry> commands;

  private PluginCommands(Map<String, Entry> commands) {
    this.commands = commands;
  }

  /**
   * @param catalog the loaded plugins
   * @return their commands by name
   * @throws ConfigException when two plugins add the same command, or one shadows a built-in
   */
  public static PluginCommands of(PluginCatalog catalog) throws ConfigException {
    Map<String, Entry> found = new TreeMap<>();
    for (LoadedPlugin p : catalog.all()) {
      List<PluginCommand> list;
      try {
        list = withLoader(p, () -> p.plugin().commands());
      } catch (InvalidConfigException | RuntimeException | LinkageError e) {
        throw new ConfigException("plugin '" + p.name() + "' (" + p.jar().getFileName() + ") failed to list its commands: " + e, e);
      }
      for (PluginCommand c : list) {
        if (c.name() == null || !c.name().matches("[a-z0-9][a-z0-9-]*")) {
          throw new ConfigException("plugin '" + p.name() + "' (" + p.jar().getFileName() + ") adds a command named '"
              + c.name() + "'; command names use lower-case letters, digits and dashes");
        }
        if (RESERVED.contains(c.name())) {
          throw new ConfigException("plugin '" + p.name() + "' (" + p.jar().getFileName() + ") adds a command named '"
              + c.name() + "', which is the gateway's own; rename it in the plugin");
        }
        Entry other = found.putIfAbsent(c.name(), new Entry(p, c));
        if (other != null) {
          throw new ConfigException("plugins '" + other.plugin().name() + "' (" + other.plugin().jar().getFileName()
              + ") and '" + p.name() + "' (" + p.jar().getFileName() + ") both add the command '" + c.name()
              + "'; remove one of the jars");
        }
      }
    }
    return new PluginCommands(found);
  }

  /** @return whether a plugin adds {@code name} */
  public boolean has(String name) {
    return commands.containsKey(name);
  }

  /** What {@code NAME --help} shows of a plugin's command. */
  public record Description(String summary, String usage, String plugin, Path jar) {}

  /** @return the command's summary and synopsis, read without running it */
  public Optional<Description> description(String name) {
    Entry e = commands.get(name);
    return e == null ? Optional.empty() : Optional.of(new Description(Objects.toString(e.command().summary(), ""),
        Objects.toString(e.command().usage(), ""), e.plugin().name(), e.plugin().jar()));
  }

  /** @return the commands' names, sorted */
  public List<String> names() {
    return List.copyOf(commands.keySet());
  }

  /** @return "name usage — summary" lines for {@code --help} */
  public List<String> describe() {
    return commands.values().stream()
        .map(e -> String.format("  %-17s %s  (plugin %s)%n  %-17s   usage: %s %s", e.command().name(), e.command().summary(),
            e.plugin().name(), "", e.command().name(), e.command().usage()))
        .toList();
  }

  /**
   * Runs a plugin command with the plugin's configuration from {@code loaded}.
   *
   * @return the command's exit status
   * @throws ConfigException when the plugin refuses its configuration for the command
   */
  public int run(String name, List<String> args, LoadedConfig loaded, PrintStream out, PrintStream err)
      throws ConfigException {
    Entry e = commands.get(name);
    LoadedPlugin plugin = e.plugin();
    JsonNode tree = loaded.config().plugins().get(plugin.name());
    PrometheusPluginMetrics metrics =
        new PrometheusPluginMetrics(plugin.name(), new CollectorRegistry(true), PrometheusPluginMetrics.newStore());
    Connector noRoutes = request -> {
      throw new IllegalStateException("commands run without a server; routes() is not available");
    };
    String routePrefix = loaded.config().server().routePrefix();
    // A command's lasting state lasts as long as the command: it is closed when the command ends.
    LastingStates lasting = new LastingStates((p, states) -> new HostPluginContext(p, metrics, Clock.systemUTC(),
        loaded.paths().dataDir(), noRoutes, states, routePrefix, true));
    HostPluginContext base = new HostPluginContext(plugin, metrics, Clock.systemUTC(), loaded.paths().dataDir(),
        noRoutes, lasting, routePrefix, false);
    CommandContext context = new HostCommandContext(base, new HostPluginConfig(plugin.name(), tree), out, err,
        name, loaded.paths().configFile() != null);
    try {
      return withLoader(plugin, () -> e.command().run(List.copyOf(args), context));
    } catch (InvalidConfigException ex) {
      throw new ConfigException(ex.getMessage(), ex);
    } catch (NoDataDirectory ex) {
      throw new ConfigException(ex.getMessage(), ex);
    } finally {
      base.close();
      lasting.close();
    }
  }

  private interface PluginCall<T> {
    T call() throws InvalidConfigException;
  }

  private static <T> T withLoader(LoadedPlugin plugin, PluginCall<T> call) throws InvalidConfigException {
    ClassLoader previous = ContextClassLoader.enter(plugin.loader());
    try {
      return call.call();
    } finally {
      ContextClassLoader.restore(previous);
    }
  }

  /** A command asked for its data directory, but no configuration file says where the gateway keeps its data. */
  private static final class NoDataDirectory extends IllegalStateException {
    NoDataDirectory(String command) {
      super(command + " works on the gateway's data, in the server.data_dir of its configuration file: pass "
          + "--config FILE, the file the gateway runs with (without it, it would use a directory the gateway does not read)");
    }
  }

  /**
   * A plugin context plus the command's configuration and terminal streams. Its data directory is
   * not created here: a command makes it when it writes, so that one that only reads, or stops at
   * a usage error, leaves nothing behind.
   */
  private record HostCommandContext(HostPluginContext base, PluginConfig config, PrintStream out, PrintStream err,
      String command, boolean configured) implements CommandContext {
    @Override
    public String pluginName() {
      return base.pluginName();
    }

    @Override
    public System.Logger logger() {
      return base.logger();
    }

    @Override
    public void event(System.Logger.Level level, String message, Map<String, ?> fields) {
      base.event(level, message, fields);
    }

    @Override
    public Connector routes() {
      return base.routes();
    }

    @Override
    public PluginMetrics metrics() {
      return base.metrics();
    }

    @Override
    public Clock clock() {
      return base.clock();
    }

    @Override
    public ScheduledExecutorService scheduler() {
      return base.scheduler();
    }

    @Override
    public Path dataDirectory() {
      if (!configured) {
        throw new NoDataDirectory(command);
      }
      return base.dataDirectoryPath();
    }

    @Override
    public void adminEndpoint(String name, AdminEndpoint endpoint) {
      throw new UnsupportedOperationException("commands run without a server; adminEndpoint() is not available");
    }

    @Override
    public void publicEndpoint(String path, PublicEndpoint endpoint) {
      throw new UnsupportedOperationException("commands run without a server; publicEndpoint() is not available");
    }

    @Override
    public <T> T lasting(Class<T> type, LastingFactory<T> factory) throws InvalidConfigException {
      return base.lasting(type, factory);
    }

    @Override
    public String routePrefix() {
      return base.routePrefix();
    }
  }
}
