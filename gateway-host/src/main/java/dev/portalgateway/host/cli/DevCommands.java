package dev.portalgateway.host.cli;

import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.config.ListenAddress;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.portal.crypto.IdentityFile;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The development commands: a Java Portal relay, a Java tunnel, and {@code demo}, which runs
 * both with a small service and the gateway in one process. They exist for development, tests
 * and first contact, not as a replacement for Portal's own relay and tunnel.
 */
final class DevCommands {
  private DevCommands() {}

  /** {@code relay [--listen HOST:PORT]} */
  static int relay(List<String> args, PrintStream out, PrintStream err) {
    Map<String, String> options = options(args, List.of("--listen"), err);
    if (options == null) {
      return Main.USAGE;
    }
    InetSocketAddress listen;
    try {
      listen = ListenAddress.parse(options.getOrDefault("--listen", "127.0.0.1:4017"));
    } catch (IllegalArgumentException e) {
      err.println("portal-gateway: relay --listen: " + e.getMessage());
      return Main.USAGE;
    }
    try (DevRelay relay = DevRelay.start(listen)) {
      JsonLog.info("relay", "development relay listening", "url", relay.url().toString());
      out.println("Portal development relay at " + relay.url());
      awaitShutdown(relay::close);
      return Main.OK;
    } catch (IOException e) {
      err.println("portal-gateway: cannot start the relay on " + listen + ": " + e.getMessage());
      return Main.FAILED;
    }
  }

  /**
   * Where the tunnel keeps its identity unless told otherwise: the user's state directory
   * ({@code $XDG_STATE_HOME/portal-gateway}, else {@code ~/.local/state/portal-gateway}), never the
   * current directory, where a second start from elsewhere would make a second identity.
   */
  static Path stateDirectory() {
    String xdg = System.getenv("XDG_STATE_HOME");
    Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg)
        : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("portal-gateway");
  }

  /** {@code tunnel --relay URL --name NAME --target HOST:PORT [--identity FILE]} */
  static int tunnel(List<String> args, PrintStream out, PrintStream err) {
    Map<String, String> options = options(args, List.of("--relay", "--name", "--target", "--identity"), err);
    if (options == null) {
      return Main.USAGE;
    }
    for (String required : List.of("--relay", "--name", "--target")) {
      if (!options.containsKey(required)) {
        err.println("portal-gateway: tunnel needs " + required
            + "; usage: tunnel --relay ws://HOST:4017/relay --name NAME --target HOST:PORT [--identity FILE]");
        return Main.USAGE;
      }
    }
    try {
      Path identityFile = options.containsKey("--identity") ? Path.of(options.get("--identity"))
          : stateDirectory().resolve("tunnel-" + options.get("--name").replaceAll("[^A-Za-z0-9._-]", "_") + ".key");
      PortalIdentity identity = IdentityFile.loadOrCreate(identityFile);
      InetSocketAddress target = ListenAddress.parse(options.get("--target"));
      try (DevTunnel tunnel = DevTunnel.start(URI.create(options.get("--relay")), identity, options.get("--name"), target)) {
        JsonLog.info("tunnel", "lease registered", "name", tunnel.name(), "lease_id", tunnel.leaseId(),
            "target", options.get("--target"), "identity_file", identityFile.toAbsolutePath().toString());
        out.println("Lease '" + tunnel.name() + "' (" + tunnel.leaseId() + ") forwards to " + options.get("--target"));
        awaitShutdown(tunnel::close);
        return Main.OK;
      }
    } catch (IOException | IllegalArgumentException e) {
      err.println("portal-gateway: cannot start the tunnel: " + e.getMessage());
      return Main.FAILED;
    }
  }

  /**
   * {@code demo-service [--listen HOST:PORT]}: the demo's MCP service on its own, so that a
   * {@code tunnel} in another process (or container) can put it behind a relay.
   */
  static int demoService(List<String> args, PrintStream out, PrintStream err) {
    Map<String, String> options = options(args, List.of("--listen"), err);
    if (options == null) {
      return Main.USAGE;
    }
    InetSocketAddress listen;
    try {
      listen = ListenAddress.parse(options.getOrDefault("--listen", "127.0.0.1:8000"));
    } catch (IllegalArgumentException e) {
      err.println("portal-gateway: demo-service --listen: " + e.getMessage());
      return Main.USAGE;
    }
    try {
      HttpServer service = DemoMcpServer.start(listen);
      String url = "http://" + (listen.getAddress().isAnyLocalAddress() ? "127.0.0.1" : listen.getHostString()) + ":"
          + service.getAddress().getPort();
      JsonLog.info("demo-service", "demo MCP service listening", "url", url, "mcp", url + "/mcp");
      out.println("Demo MCP service at " + url + "/mcp (a greeting at /, five events at /events)");
      out.flush();
      awaitShutdown(() -> service.stop(0));
      return Main.OK;
    } catch (IOException e) {
      err.println("portal-gateway: cannot start the demo service on " + listen + ": " + e.getMessage());
      return Main.FAILED;
    }
  }

  /**
   * {@code demo [--port 8080] [--admin-port 9090] [--relay-port 4017]}: a relay, an MCP service
   * behind tunnels, and the gateway in front with the shipped plugins ({@link Demo}).
   */
  static int demo(List<String> args, PrintStream out, PrintStream err) {
    Map<String, String> options = options(args, List.of("--port", "--relay-port", "--admin-port"), err);
    if (options == null) {
      return Main.USAGE;
    }
    int port;
    int adminPort;
    int relayPort;
    try {
      port = Integer.parseInt(options.getOrDefault("--port", "8080"));
      adminPort = Integer.parseInt(options.getOrDefault("--admin-port", "9090"));
      relayPort = Integer.parseInt(options.getOrDefault("--relay-port", "4017"));
    } catch (NumberFormatException e) {
      err.println("portal-gateway: demo configuration error: a port must be a number: " + e.getMessage());
      return Main.USAGE;
    }
    return Demo.run(port, adminPort, relayPort, out, err);
  }

  private static Map<String, String> options(List<String> args, List<String> known, PrintStream err) {
    Map<String, String> options = new HashMap<>();
    List<String> rest = new ArrayList<>(args);
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      if (!known.contains(name)) {
        err.println("portal-gateway: unknown option '" + a + "'; options: " + String.join(", ", known));
        return null;
      }
      if (a.contains("=")) {
        options.put(name, a.substring(a.indexOf('=') + 1));
      } else if (i + 1 < rest.size()) {
        options.put(name, rest.get(++i));
      } else {
        err.println("portal-gateway: " + name + " needs a value");
        return null;
      }
    }
    return options;
  }

  /**
   * Blocks until the process is told to stop (SIGTERM, Ctrl-C), then runs {@code cleanup} and ends
   * the process with status 0, as {@code serve} does: stopping on request is not a failure.
   */
  private static void awaitShutdown(Runnable cleanup) {
    CountDownLatch never = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        cleanup.run();
      } finally {
        JsonLog.flush();
        System.out.flush();
        Runtime.getRuntime().halt(Main.OK);
      }
    }, "shutdown"));
    try {
      never.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
