package dev.portalgateway.host.cli;

import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.server.Gateway;
import dev.portalgateway.host.server.HttpServerFactory;
import dev.portalgateway.portal.crypto.IdentityFile;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
   * {@code demo [--port 8080]}: a relay on 127.0.0.1:4017, a service behind a tunnel as lease
   * {@code demo}, and the gateway in front, with the plugins next to the jar.
   */
  static int demo(int port, int adminPort, int relayPort, PrintStream out, PrintStream err) {
    HttpServer service = null;
    try (DevRelay relay = DevRelay.start(new InetSocketAddress("127.0.0.1", relayPort))) {
      service = DemoMcpServer.start();
      Path data = Files.createTempDirectory("portal-gateway-demo");
      try (DevTunnel tunnel = DevTunnel.start(relay.url(), IdentityFile.loadOrCreate(data.resolve("tunnel.key")), "demo",
          service.getAddress())) {
        String yaml = """
            server:
              listen: "127.0.0.1:%s"
              admin_listen: "127.0.0.1:%s"
              data_dir: "%s"
            relay:
              url: "%s"
            plugins:
              example-header: { header: "X-Example", value: "hello from the example plugin", enabled: %s }
            """.formatted(port, adminPort, data.toString().replace('\\', '/'), relay.url(),
            Files.exists(Main.defaultPluginsDir().resolve("plugin-example.jar")));
        ConfigLoader loader = new ConfigLoader(System::getenv, Main.defaultPluginsDir());
        LoadedConfig loaded = loader.fromText(yaml, null);
        Gateway gateway = Gateway.start(loaded, loader, true);
        String base = "http://127.0.0.1:" + gateway.address().getPort();
        out.println();
        out.println("Portal Gateway demo is running:");
        out.println("  relay    " + relay.url() + " (sees only ciphertext)");
        out.println("  lease    demo = " + tunnel.leaseId() + " -> MCP demo service on 127.0.0.1:"
            + service.getAddress().getPort());
        out.println();
        String mcp = "curl -s " + base + "/peer/demo/mcp -H 'Content-Type: application/json' "
            + "-H 'Accept: application/json, text/event-stream' -d ";
        out.println("Try:");
        out.println("  curl -i " + base + "/peer/demo/");
        out.println("  " + mcp + "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},\"clientInfo\":{\"name\":\"curl\",\"version\":\"1\"}}}'");
        out.println("  " + mcp + "'{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}'");
        out.println("  " + mcp + "'{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}}'");
        out.println("  " + mcp + "'{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"time\"}}'");
        out.println("  curl -N " + base + "/peer/demo/events");
        out.println("  curl -i " + base + "/peer/" + tunnel.leaseId() + "/");
        out.println("  curl -s http://127.0.0.1:" + gateway.adminAddress().getPort() + "/metrics | grep portal_gateway_requests_total");
        out.println();
        out.println("Stop with Ctrl-C.");
        out.flush();
        HttpServer demoService = service;
        awaitShutdown(() -> {
          gateway.drainAndStop(Duration.ofSeconds(5));
          tunnel.close();
          relay.close();
          demoService.stop(0);
          deleteQuietly(data); // the demo's throwaway identities
        });
        return Main.OK;
      }
    } catch (ConfigException e) {
      err.println("portal-gateway: demo configuration error: " + e.getMessage());
      return Main.USAGE;
    } catch (IOException e) {
      err.println("portal-gateway: cannot start the demo: " + e.getMessage()
          + " (is another gateway or relay using the ports? try --port, --admin-port, --relay-port)");
      return Main.FAILED;
    } finally {
      if (service != null) {
        service.stop(0);
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException ignored) {
      // A leftover temporary folder is harmless.
    }
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
