package dev.portalgateway.host.cli;

import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.FilterFactory;
import dev.portalgateway.host.plugin.PluginCatalog;
import dev.portalgateway.host.plugin.PluginCommands;
import dev.portalgateway.host.runtime.GatewayRuntime;
import dev.portalgateway.host.runtime.RuntimeHolder;
import dev.portalgateway.host.server.Gateway;
import dev.portalgateway.host.server.ServerTls;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar portal-gateway.jar [serve] [--config FILE] | validate-config --config FILE | version | --help}.
 * Exit status: 0 ok, 1 the gateway failed while running (a port taken), 2 bad usage or configuration.
 */
public final class Main {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private static final String USAGE_TEXT = """
      Usage: portal-gateway [COMMAND] [--config FILE]

      Commands:
        serve             run the gateway (the default command)
        validate-config   check a configuration file and its plugins, then exit
        version           print the version
        demo [--port 8080] [--admin-port 9090] [--relay-port 4017]
                          run a relay, an MCP service behind a tunnel and the gateway on this machine
        relay [--listen HOST:PORT]
                          run a development Portal relay (default 127.0.0.1:4017)
        tunnel --relay URL --name NAME --target HOST:PORT [--identity FILE]
                          expose HOST:PORT as lease NAME through a relay (development tunnel)
        demo-service [--listen HOST:PORT]
                          run the demo's MCP service alone (default 127.0.0.1:8000), for a tunnel
        help              print this help
        (plugins add more commands, such as add-key; they are listed below when found)

      Options:
        --config FILE     the YAML configuration; without it the gateway runs on its defaults
                          (listen :8080, admin 127.0.0.1:9090, relay ws://localhost:4017/relay)

      Exit status: 0 ok, 1 failed while running, 2 bad usage or configuration.
      Docs: docs/quickstart.md and docs/configuration.md
      """;

  private Main() {}

  public static void main(String[] args) {
    dev.portalgateway.host.ops.JulBridge.install();
    // serve only returns if interrupted; the shutdown hook ends the process with its own status.
    int status = run(args, System.out, System.err);
    JsonLog.flush();
    System.exit(status);
  }

  /**
   * Runs a command. {@code serve} blocks until the process is told to stop.
   *
   * @return the exit status
   */
  static int run(String[] args, PrintStream out, PrintStream err) {
    List<String> rest = new ArrayList<>(List.of(args));
    String command = rest.isEmpty() || rest.get(0).startsWith("-") ? "serve" : rest.remove(0);
    switch (command) {
      case "relay" -> {
        return DevCommands.relay(rest, out, err);
      }
      case "tunnel" -> {
        return DevCommands.tunnel(rest, out, err);
      }
      case "demo" -> {
        return DevCommands.demo(rest, out, err);
      }
      case "demo-service" -> {
        return DevCommands.demoService(rest, out, err);
      }
      default -> {
        // serve, validate-config, version, help, or a plugin's command
      }
    }
    boolean builtIn = PluginCommands.RESERVED.contains(command);
    if (!builtIn) {
      return pluginCommand(command, rest, out, err);
    }
    if (rest.contains("--help") || rest.contains("-h") || command.equals("help")) {
      out.print(USAGE_TEXT);
      printPluginCommands(rest, out);
      return OK;
    }
    Path config;
    try {
      config = configOption(rest);
    } catch (IllegalArgumentException e) {
      err.println("portal-gateway: " + e.getMessage());
      err.print(USAGE_TEXT);
      return USAGE;
    }
    return switch (command) {
      case "serve" -> serve(config, err);
      case "validate-config" -> validate(config, out, err);
      case "version" -> {
        out.println("portal-gateway " + version());
        yield OK;
      }
      default -> throw new IllegalStateException("not a built-in command: " + command);
    };
  }

  /** Runs a command a plugin adds, such as {@code add-key}, with the plugins of {@code --config}. */
  private static int pluginCommand(String command, List<String> rest, PrintStream out, PrintStream err) {
    List<String> args = new ArrayList<>();
    Path configFile = null;
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      if (a.equals("--config") || a.equals("-c")) {
        if (i + 1 >= rest.size()) {
          err.println("portal-gateway: --config needs a file name");
          return USAGE;
        }
        configFile = Path.of(rest.get(++i));
      } else if (a.startsWith("--config=")) {
        configFile = Path.of(a.substring("--config=".length()));
      } else {
        args.add(a);
      }
    }
    // Standard output is the command's own (a key shown once, a table to pipe); log lines, such
    // as a plugin's audit record of the change it made, go to standard error.
    PrintStream logSink = JsonLog.redirect(err);
    JsonLog.threshold(System.Logger.Level.WARNING);
    try {
      LoadedConfig loaded = loader().load(configFile);
      PluginCommands commands = PluginCommands.of(PluginCatalog.load(loaded.paths().pluginsDir()));
      if (!commands.has(command)) {
        err.println("portal-gateway: unknown command '" + command + "'");
        err.print(USAGE_TEXT);
        commands.describe().forEach(err::println);
        return USAGE;
      }
      JsonLog.threshold(System.Logger.Level.INFO);
      return commands.run(command, args, loaded, out, err);
    } catch (ConfigException e) {
      err.println("portal-gateway: " + e.getMessage());
      return USAGE;
    } catch (RuntimeException | LinkageError e) {
      err.println("portal-gateway: " + command + " failed: " + e);
      return FAILED;
    } finally {
      JsonLog.threshold(System.Logger.Level.INFO);
      JsonLog.redirect(logSink);
    }
  }

  private static void printPluginCommands(List<String> rest, PrintStream out) {
    JsonLog.threshold(System.Logger.Level.OFF);
    try {
      LoadedConfig loaded = loader().load(configOption(rest.stream().filter(a -> !a.equals("--help") && !a.equals("-h")).toList()));
      List<String> lines = PluginCommands.of(PluginCatalog.load(loaded.paths().pluginsDir())).describe();
      if (!lines.isEmpty()) {
        out.println();
        out.println("Commands from plugins in " + loaded.paths().pluginsDir() + ":");
        lines.forEach(out::println);
      }
    } catch (ConfigException | IllegalArgumentException e) {
      // Help must always print; a broken configuration shows up when the gateway starts.
    } finally {
      JsonLog.threshold(System.Logger.Level.INFO);
    }
  }

  private static Path configOption(List<String> rest) {
    Path config = null;
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      if (a.equals("--config") || a.equals("-c")) {
        if (i + 1 >= rest.size()) {
          throw new IllegalArgumentException("--config needs a file name");
        }
        config = Path.of(rest.get(++i));
      } else if (a.startsWith("--config=")) {
        config = Path.of(a.substring("--config=".length()));
      } else {
        throw new IllegalArgumentException("unknown option '" + a + "'");
      }
    }
    return config;
  }

  private static ConfigLoader loader() {
    return new ConfigLoader(System::getenv, defaultPluginsDir());
  }

  private static int serve(Path configFile, PrintStream err) {
    ConfigLoader loader = loader();
    Gateway gateway;
    try {
      LoadedConfig loaded = loader.load(configFile);
      gateway = Gateway.start(loaded, loader, true);
    } catch (ConfigException e) {
      err.println("portal-gateway: configuration error: " + e.getMessage());
      return USAGE;
    } catch (IOException e) {
      err.println("portal-gateway: cannot start: " + e.getMessage());
      return FAILED;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Read now, not at startup: a reload may have changed it.
      gateway.drainAndStop(gateway.runtimes().peek().config().config().server().shutdownGrace());
      stopped.countDown();
      JsonLog.flush();
      System.out.flush();
      // A JVM stopped by SIGTERM exits 143; a drained gateway has done nothing wrong, so say 0.
      Runtime.getRuntime().halt(OK);
    }, "shutdown-drain"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return OK;
  }

  private static int validate(Path configFile, PrintStream out, PrintStream err) {
    if (configFile == null) {
      err.println("portal-gateway: validate-config needs --config FILE");
      return USAGE;
    }
    JsonLog.threshold(System.Logger.Level.WARNING);
    try {
      LoadedConfig loaded = loader().load(configFile);
      if (loaded.paths().tlsKeystore() != null) {
        var tls = loaded.config().server().tls();
        ServerTls.load(loaded.paths().tlsKeystore(), tls.keystorePassword(), tls.keyPassword(), tls.minVersion());
      }
      PluginCatalog catalog = PluginCatalog.load(loaded.paths().pluginsDir());
      // Closed in every case: a plugin's lasting state made while checking must not outlive the check.
      try (FilterFactory filters = new FilterFactory(catalog, new CollectorRegistry(true), Clock.systemUTC())) {
        RuntimeHolder holder = new RuntimeHolder(filters, loaded);
        GatewayRuntime runtime = holder.peek();
        out.println("configuration OK: " + configFile);
        out.println("  upstreams: " + (loaded.config().upstreams().isEmpty() ? "(none)" : String.join(", ", loaded.config().upstreams().keySet())));
        out.println("  plugins:   " + (runtime.pluginNames().isEmpty() ? "(none)" : String.join(", ", runtime.pluginNames())));
        out.println("  plugins_dir: " + loaded.paths().pluginsDir());
        holder.close();
      }
      return OK;
    } catch (ConfigException e) {
      err.println("portal-gateway: configuration error: " + e.getMessage());
      return USAGE;
    } finally {
      JsonLog.threshold(System.Logger.Level.INFO);
    }
  }

  /** @return {@code plugins/} next to the gateway jar, or in the working directory when not run from a jar */
  static Path defaultPluginsDir() {
    try {
      Path code = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isRegularFile(code)) {
        return code.toAbsolutePath().getParent().resolve("plugins");
      }
    } catch (URISyntaxException | SecurityException | NullPointerException e) {
      // Fall back to the working directory.
    }
    return Path.of("plugins").toAbsolutePath();
  }

  static String version() {
    try (InputStream in = Main.class.getResourceAsStream("/dev/portalgateway/host/version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
