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
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The command line: {@code portal-gateway [serve] [--config FILE] | validate-config --config FILE |
 * version | help [COMMAND] | demo | relay | tunnel | NAME ...} (a plugin's command). The gateway's
 * own commands are parsed by {@link BuiltInCommands}, a plugin's by {@link PluginCommandLine} and the
 * plugin. {@link Start}, the jar's entry, calls {@link #main} on Java 21 or newer.
 * Exit status: 0 ok, 1 the gateway failed while running (a port taken), 2 bad usage or configuration.
 */
public final class Main {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

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
    if (args.length > 0 && !args[0].startsWith("-") && !PluginCommands.RESERVED.contains(args[0])) {
      return PluginCommandLine.run(args[0], List.of(args).subList(1, args.length), out, err);
    }
    int status = BuiltInCommands.commandLine(out, err).execute(args);
    out.flush();
    err.flush();
    return status;
  }

  static ConfigLoader loader() {
    return new ConfigLoader(System::getenv, defaultPluginsDir());
  }

  static int serve(Path configFile, PrintStream err) {
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

  static int validate(Path configFile, PrintStream out, PrintStream err) {
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
