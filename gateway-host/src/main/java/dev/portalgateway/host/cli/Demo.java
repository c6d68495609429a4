package dev.portalgateway.host.cli;

import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.config.ConfigLoader.LoadedConfig;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.PluginCatalog;
import dev.portalgateway.host.plugin.PluginCommands;
import dev.portalgateway.host.server.Gateway;
import dev.portalgateway.portal.crypto.IdentityFile;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code demo} sets up, once its options are read: a development relay, the demo MCP service
 * behind two development tunnels (leases {@code demo} and {@code limited}), and the gateway in
 * front with the shipped plugins that need no outside service, each one when its jar is in the
 * {@code plugins/} folder next to the gateway jar:
 *
 * <ul>
 *   <li>{@code auth-apikey}: every route needs a key; the demo makes one with the plugin's own
 *       {@code add-key} command, in the demo's temporary data folder, and prints it once;
 *   <li>{@code ratelimit-token-cost}: on the route {@code limited} only, each key may send 3
 *       requests at once and then one every 20 seconds, so a few quick requests show a {@code 429};
 *   <li>{@code cache-mcp}: with its defaults, so a repeated MCP {@code tools/list} is a hit;
 *   <li>{@code example-header}: the example plugin's header on every answer from the service.
 * </ul>
 */
final class Demo {
  /** The rate limit on the route {@code limited}: the burst, and the seconds between two more requests. */
  static final int LIMITED_BURST = 3;
  static final int LIMITED_REFILL_SECONDS = 20;

  private static final Pattern EXPORT_LINE = Pattern.compile("(?m)^export GATEWAY_KEY=(\\S+)$");

  private Demo() {}

  /** Runs the demo until the process is told to stop; returns the exit status. */
  static int run(int port, int adminPort, int relayPort, PrintStream out, PrintStream err) {
    HttpServer service = null;
    try (DevRelay relay = DevRelay.start(new InetSocketAddress("127.0.0.1", relayPort))) {
      service = DemoMcpServer.start();
      Path data = Files.createTempDirectory("portal-gateway-demo");
      try (DevTunnel tunnel = DevTunnel.start(relay.url(), IdentityFile.loadOrCreate(data.resolve("tunnel.key")), "demo",
              service.getAddress());
          DevTunnel limitedTunnel = DevTunnel.start(relay.url(),
              IdentityFile.loadOrCreate(data.resolve("tunnel-limited.key")), "limited", service.getAddress())) {
        Path plugins = Main.defaultPluginsDir();
        boolean example = Files.exists(plugins.resolve("plugin-example.jar"));
        boolean apiKeys = Files.exists(plugins.resolve("auth-apikey.jar"));
        boolean rateLimit = Files.exists(plugins.resolve("ratelimit-token-cost.jar"));
        boolean cache = Files.exists(plugins.resolve("cache-mcp.jar"));
        StringBuilder yaml = new StringBuilder("""
            server:
              listen: "127.0.0.1:%d"
              admin_listen: "127.0.0.1:%d"
              data_dir: "%s"
            relay:
              url: "%s"
            plugins:
            """.formatted(port, adminPort, data.toString().replace('\\', '/'), relay.url()));
        if (example) {
          yaml.append("  example-header: { header: \"X-Example\", value: \"hello from the example plugin\" }\n");
        }
        if (apiKeys) {
          yaml.append("  auth-apikey: { keys_file: \"keys.yaml\" }\n");
        }
        if (rateLimit) {
          yaml.append("""
                ratelimit-token-cost:
                  enabled: false
                  routes:
                    limited: { requests: { per_principal: { rate_per_second: %s, burst: %d } } }
              """.formatted(1.0 / LIMITED_REFILL_SECONDS, LIMITED_BURST));
        }
        if (cache) {
          yaml.append("  cache-mcp: {}\n");
        }
        ConfigLoader loader = new ConfigLoader(System::getenv, plugins);
        // A file, as a user's gateway has: add-key needs the configuration file to find the data.
        Path configFile = data.resolve("gateway.yaml");
        Files.writeString(configFile, yaml.toString());
        LoadedConfig loaded = loader.load(configFile);
        String key = apiKeys ? addKey(loaded, err) : null;
        if (apiKeys && key == null) {
          return Main.FAILED;
        }
        Gateway gateway = Gateway.start(loaded, loader, true);
        JsonLog.flush();
        printWhatToTry(out, relay, tunnel, limitedTunnel, service, gateway,
            new Plugins(apiKeys, rateLimit, cache, example), key);
        HttpServer demoService = service;
        awaitShutdown(() -> {
          gateway.drainAndStop(Duration.ofSeconds(5));
          tunnel.close();
          limitedTunnel.close();
          relay.close();
          demoService.stop(0);
          deleteQuietly(data); // the demo's throwaway identities and its key
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

  private record Plugins(boolean apiKeys, boolean rateLimit, boolean cache, boolean example) {
    List<String> names() {
      List<String> names = new ArrayList<>();
      if (apiKeys) {
        names.add("auth-apikey");
      }
      if (cache) {
        names.add("cache-mcp");
      }
      if (example) {
        names.add("example-header");
      }
      if (rateLimit) {
        names.add("ratelimit-token-cost");
      }
      return names;
    }
  }

  /**
   * Makes the demo's API key with the {@code auth-apikey} plugin's own {@code add-key} command, as
   * {@code portal-gateway add-key --name demo --leases '*' --generate} would, into the keys file in
   * the demo's data folder.
   *
   * @return the key, or {@code null} after printing why it could not be made
   */
  private static String addKey(LoadedConfig loaded, PrintStream err) throws ConfigException {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ByteArrayOutputStream problems = new ByteArrayOutputStream();
    int status;
    try (PrintStream commandOut = new PrintStream(printed, true, StandardCharsets.UTF_8);
        PrintStream commandErr = new PrintStream(problems, true, StandardCharsets.UTF_8)) {
      status = PluginCommands.of(PluginCatalog.load(loaded.paths().pluginsDir()))
          .run("add-key", List.of("--name", "demo", "--leases", "*", "--generate"), loaded, commandOut, commandErr);
    }
    Matcher m = EXPORT_LINE.matcher(printed.toString(StandardCharsets.UTF_8));
    if (status != 0 || !m.find()) {
      err.println("portal-gateway: cannot start the demo: add-key failed with status " + status + ": "
          + problems.toString(StandardCharsets.UTF_8).strip());
      return null;
    }
    return m.group(1);
  }

  private static void printWhatToTry(PrintStream out, DevRelay relay, DevTunnel tunnel, DevTunnel limited,
      HttpServer service, Gateway gateway, Plugins plugins, String key) {
    String base = "http://127.0.0.1:" + gateway.address().getPort();
    String auth = key == null ? "" : "-H \"Authorization: Bearer $GATEWAY_KEY\" ";
    String mcp = "curl -si " + auth + "-H 'Content-Type: application/json' "
        + "-H 'Accept: application/json, text/event-stream' -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}' "
        + base + "/peer/demo/mcp";
    List<String> lines = new ArrayList<>();
    lines.add("");
    lines.add("Portal Gateway demo is running:");
    lines.add("  relay    " + relay.url() + " (sees only ciphertext)");
    lines.add("  lease    demo = " + tunnel.leaseId() + " -> MCP demo service on 127.0.0.1:" + service.getAddress().getPort());
    lines.add("  lease    limited = " + limited.leaseId() + " -> the same service"
        + (plugins.rateLimit() ? ", rate-limited" : ""));
    lines.add("  gateway  " + base + " (admin http://127.0.0.1:" + gateway.adminAddress().getPort() + ")");
    lines.add("  plugins  " + (plugins.names().isEmpty() ? "(none found in " + Main.defaultPluginsDir() + ")"
        : String.join(", ", plugins.names())));
    if (key != null) {
      lines.add("");
      lines.add("Every route needs an API key. The demo made one for this run; it is shown only now:");
      lines.add("");
      lines.add("  export GATEWAY_KEY=" + key);
    }
    lines.add("");
    lines.add(key == null ? "Try, in another terminal:" : "Try, in another terminal, after pasting the export line there:");
    lines.add("");
    if (key != null) {
      lines.add("  # 401: no key");
      lines.add("  curl -i " + base + "/peer/demo/");
    }
    lines.add("  # 200: the service's answer, through the relay, end-to-end encrypted");
    lines.add("  curl -i " + auth + base + "/peer/demo/");
    lines.add(plugins.cache() ? "  # an MCP tools/list; run it twice: X-Cache: MISS, then X-Cache: HIT from the gateway's cache"
        : "  # an MCP tools/list");
    lines.add("  " + mcp);
    if (plugins.rateLimit()) {
      lines.add("  # 4 requests to the rate-limited lease: 200 200 200 429 (" + LIMITED_BURST + " at once, then 1 every "
          + LIMITED_REFILL_SECONDS + " s)");
      lines.add("  for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code} ' " + auth + base
          + "/peer/limited/; done; echo");
    }
    lines.add("  # five server-sent events, one a second, streamed through the relay");
    lines.add("  curl -N " + auth + base + "/peer/demo/events");
    lines.add("  # the lease by its ID instead of its name");
    lines.add("  curl -i " + auth + base + "/peer/" + tunnel.leaseId() + "/");
    lines.add("  # what the gateway and the plugins counted");
    lines.add("  curl -s http://127.0.0.1:" + gateway.adminAddress().getPort() + "/metrics | grep -E "
        + "'^portal_gateway_(requests|auth_apikey_requests|cache_mcp_requests|ratelimit_token_cost_limited)_total'");
    lines.add("");
    lines.add("Stop with Ctrl-C.");
    lines.forEach(out::println);
    out.flush();
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
