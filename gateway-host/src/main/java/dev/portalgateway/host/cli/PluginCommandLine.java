package dev.portalgateway.host.cli;

import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.PluginCatalog;
import dev.portalgateway.host.plugin.PluginCommands;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Commands that plugins add ({@code add-key}, {@code webhooks}, ...). The gateway reads two options
 * itself, before {@code --}: {@code --config FILE} (also {@code -c FILE}, {@code --config=FILE}) and
 * {@code --help} ({@code -h}), which it answers from the plugin's {@code summary()} and
 * {@code usage()} without running the command. The plugin parses the rest.
 */
final class PluginCommandLine {
  private static final String BUILT_IN = "serve, validate-config, version, help, demo, relay, tunnel";

  private PluginCommandLine() {}

  /** Runs {@code name args...}, or answers its {@code --help}. */
  static int run(String name, List<String> args, PrintStream out, PrintStream err) {
    List<String> forPlugin = new ArrayList<>();
    Path config = null;
    boolean help = false;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--")) {
        forPlugin.addAll(args.subList(i, args.size())); // the plugin's own, even --config and --help
        break;
      } else if (a.equals("--help") || a.equals("-h")) {
        help = true;
      } else if (a.equals("--config") || a.equals("-c")) {
        if (i + 1 >= args.size()) {
          err.println("portal-gateway " + name + ": " + a + " needs a file name");
          err.println("Run 'portal-gateway " + name + " --help' for the options.");
          return Main.USAGE;
        }
        config = Path.of(args.get(++i));
      } else if (a.startsWith("--config=")) {
        config = Path.of(a.substring("--config=".length()));
      } else {
        forPlugin.add(a);
      }
    }
    return help ? help(name, config, out, err) : execute(name, config, forPlugin, out, err);
  }

  /**
   * {@code NAME --help}: the plugin's synopsis and summary. Nothing of the command runs, nothing is
   * written, and a configuration that does not load does not stop it (the plugins next to the jar
   * are then asked).
   */
  static int help(String name, Path config, PrintStream out, PrintStream err) {
    Optional<PluginCommands> commands = commands(config);
    Optional<PluginCommands.Description> found = commands.flatMap(c -> c.description(name));
    if (found.isEmpty()) {
      return unknown(name, commands, err);
    }
    PluginCommands.Description d = found.get();
    String usage = d.usage().isBlank() ? "" : " " + d.usage().strip();
    out.println("Usage: portal-gateway " + name + usage + (usage.contains("--config") ? "" : " [--config FILE]"));
    out.println(d.summary());
    out.println("From the plugin " + d.plugin() + " (" + d.jar() + ").");
    out.println();
    out.println("Options the gateway reads itself:");
    out.println("  -c, --config FILE   the configuration the gateway runs with: the plugin's settings, and its");
    out.println("                      data directory under server.data_dir, come from it");
    out.println("  -h, --help          print this help and exit");
    out.println();
    out.println("Exit status: 0 done, 1 failed, 2 bad usage or configuration.");
    return Main.OK;
  }

  /** @return the lines of the root usage that list the plugins' commands; never fails */
  static String section(Path config) {
    Optional<PluginCommands> commands = commands(config);
    Path dir = pluginsDir(config);
    if (commands.isEmpty()) {
      return "%nCommands from plugins: none listed (the plugins in %s could not be read; validate-config says why)%n"
          .formatted(dir);
    }
    List<String> lines = commands.get().describe();
    if (lines.isEmpty()) {
      return "%nCommands from plugins: none in %s%n".formatted(dir);
    }
    StringBuilder sb = new StringBuilder(System.lineSeparator())
        .append("Commands from plugins in ").append(dir).append(':').append(System.lineSeparator());
    lines.forEach(l -> sb.append(l).append(System.lineSeparator()));
    return sb.toString();
  }

  private static Path pluginsDir(Path config) {
    LoadedConfig loaded = quietly(config);
    return loaded != null ? loaded.paths().pluginsDir() : Main.defaultPluginsDir();
  }

  /** The configuration, or {@code null} when there is none or it does not load. */
  private static LoadedConfig quietly(Path config) {
    if (config == null) {
      return null;
    }
    JsonLog.threshold(System.Logger.Level.OFF);
    try {
      return Main.loader().load(config);
    } catch (ConfigException e) {
      return null;
    } finally {
      JsonLog.threshold(System.Logger.Level.INFO);
    }
  }

  private static Optional<PluginCommands> commands(Path config) {
    Path dir = pluginsDir(config);
    JsonLog.threshold(System.Logger.Level.OFF);
    try {
      return Optional.of(PluginCommands.of(PluginCatalog.load(dir)));
    } catch (ConfigException | RuntimeException e) {
      return Optional.empty();
    } finally {
      JsonLog.threshold(System.Logger.Level.INFO);
    }
  }

  private static int unknown(String name, Optional<PluginCommands> commands, PrintStream err) {
    err.println("portal-gateway: unknown command '" + name + "'");
    err.println("Commands: " + BUILT_IN);
    commands.map(PluginCommands::names).filter(n -> !n.isEmpty())
        .ifPresent(n -> err.println("Commands from plugins: " + String.join(", ", n)));
    err.println("Run 'portal-gateway --help' for more.");
    return Main.USAGE;
  }

  /** Runs the command with the plugins and the plugin's settings of {@code config}. */
  private static int execute(String name, Path config, List<String> args, PrintStream out, PrintStream err) {
    // Standard output is the command's own (a key shown once, a table to pipe); log lines, such
    // as a plugin's audit record of the change it made, go to standard error.
    PrintStream logSink = JsonLog.redirect(err);
    JsonLog.threshold(System.Logger.Level.WARNING);
    try {
      LoadedConfig loaded = Main.loader().load(config);
      PluginCommands commands = PluginCommands.of(PluginCatalog.load(loaded.paths().pluginsDir()));
      if (!commands.has(name)) {
        return unknown(name, Optional.of(commands), err);
      }
      JsonLog.threshold(System.Logger.Level.INFO);
      return commands.run(name, args, loaded, out, err);
    } catch (ConfigException e) {
      err.println("portal-gateway: " + e.getMessage());
      return Main.USAGE;
    } catch (RuntimeException | LinkageError e) {
      err.println("portal-gateway: " + name + " failed: " + e);
      return Main.FAILED;
    } finally {
      JsonLog.threshold(System.Logger.Level.INFO);
      JsonLog.redirect(logSink);
    }
  }
}
