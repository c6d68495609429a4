package dev.portalgateway.host.cli;

import com.sun.net.httpserver.HttpServer;
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
import java.util.concurrent.CountDownLatch;

/**
 * The development commands: a Java Portal relay, a Java tunnel, and {@code demo}, which runs
 * both with a small service and the gateway in one process. They exist for development, tests
 * and first contact, not as a replacement for Portal's own relay and tunnel.
 */
final class DevCommands {
  private DevCommands() {}

  /** {@code relay [--listen HOST:PORT]} */
  static int relay(InetSocketAddress listen, PrintStream out, PrintStream err) {
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

  /**
   * {@code tunnel --relay URL --name NAME --target HOST:PORT [--identity FILE]}
   *
   * @param identity where the lease's key is kept, or {@code null} for the state directory
   */
  static int tunnel(URI relayUrl, String name, InetSocketAddress target, Path identity, PrintStream out,
      PrintStream err) {
    String targetText = target.getHostString() + ":" + target.getPort();
    try {
      Path identityFile = identity != null ? identity
          : stateDirectory().resolve("tunnel-" + name.replaceAll("[^A-Za-z0-9._-]", "_") + ".key");
      PortalIdentity portalIdentity = IdentityFile.loadOrCreate(identityFile);
      try (DevTunnel tunnel = DevTunnel.start(relayUrl, portalIdentity, name, target)) {
        JsonLog.info("tunnel", "lease registered", "name", tunnel.name(), "lease_id", tunnel.leaseId(),
            "target", targetText, "identity_file", identityFile.toAbsolutePath().toString());
        out.println("Lease '" + tunnel.name() + "' (" + tunnel.leaseId() + ") forwards to " + targetText);
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
  static int demoService(InetSocketAddress listen, PrintStream out, PrintStream err) {
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
  static int demo(int port, int adminPort, int relayPort, PrintStream out, PrintStream err) {
    return Demo.run(port, adminPort, relayPort, out, err);
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
