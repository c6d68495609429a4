package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "done when" for auth-apikey, as an operator does it: keys made, listed, revoked and
 * rotated with the built jar's commands, the gateway started with {@code java -jar} and the
 * plugin jar from {@code dist/plugins}, requests from an HTTP client, a real backend behind.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ApiKeyEndToEndTest {
  private static final Pattern EXPORT = Pattern.compile("(?m)^export GATEWAY_KEY=(sk_live_\\S+)$");
  private static final Pattern ADDED = Pattern.compile("Added API key (\\S+) ");

  @TempDir
  Path dir;

  private HttpServer backend;
  private Path config;
  private Path keysFile;
  private final List<String> keysMade = new ArrayList<>();
  private final StringBuilder commandLogs = new StringBuilder();
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void setUp() throws Exception {
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
    backend.createContext("/", ex -> {
      byte[] body = ("backend saw authorization=" + ex.getRequestHeaders().containsKey("Authorization"))
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    backend.start();
    keysFile = dir.resolve("secrets/keys.yaml");
    config = dir.resolve("gateway.yaml");
    String upstream = "http://127.0.0.1:" + backend.getAddress().getPort();
    Files.writeString(config, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
          data_dir: "data"
        relay:
          enabled: false
        upstreams:
          mcp: "%s"
          billing: "%s"
        plugins:
          auth-apikey:
            keys_file: "%s"
            reload_interval: 200ms
        """.formatted(upstream, upstream, keysFile));
  }

  @AfterEach
  void tearDown() {
    backend.stop(0);
    client.shutdownNow();
  }

  /** Runs a key command of the built jar, keeping its log lines to check for keys later. */
  private GatewayProcess.Result command(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--config");
    all.add(config.toString());
    GatewayProcess.Result r = GatewayProcess.run(dir, all.toArray(String[]::new));
    commandLogs.append(r.stderr());
    return r;
  }

  /** Runs add-key and returns the key it printed once. */
  private String addKey(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("add-key", "--generate"));
    all.addAll(List.of(args));
    GatewayProcess.Result r = command(all.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    Matcher m = EXPORT.matcher(r.stdout());
    assertThat(m.find()).as(r.stdout()).isTrue();
    String key = m.group(1);
    assertThat(r.stdout()).contains("shown only this once");
    keysMade.add(key);
    return key;
  }

  private static String idOf(String key) {
    return key.substring("sk_live_".length(), key.lastIndexOf('_'));
  }

  private HttpResponse<String> get(GatewayProcess g, String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port + path))
        .timeout(Duration.ofSeconds(20));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private void awaitStatus(GatewayProcess g, int status, String path, String key) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    int got;
    while ((got = get(g, path, key).statusCode()) != status) {
      assertThat(System.nanoTime()).as("waiting for %d on %s, still %d", status, path, got).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  @Test
  void theKeyLifecycleThroughTheBuiltJar() throws Exception {
    String mcpKey = addKey("--name", "claude-desktop", "--leases", "mcp");
    String billingKey = addKey("--name", "billing-bot", "--leases", "billing", "--scopes", "billing:write");

    String stored = Files.readString(keysFile);
    assertThat(stored).containsPattern("\\$2[ab]\\$12\\$");
    for (String key : keysMade) {
      assertThat(stored).doesNotContain(key, key.substring(key.lastIndexOf('_') + 1));
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keysFile))).isEqualTo("rw-------");

    GatewayProcess.Result list = command("list-keys");
    assertThat(list.exitCode()).isZero();
    assertThat(list.stdout()).contains(idOf(mcpKey), "claude-desktop", idOf(billingKey), "billing-bot", "active")
        .doesNotContain("$2a$", "sk_live_");
    GatewayProcess.Result json = command("list-keys", "--json");
    assertThat(json.stdout().lines()).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("{\"id\":"));

    try (GatewayProcess g = GatewayProcess.serve(dir, config)) {
      HttpResponse<String> none = get(g, "/peer/mcp/", null);
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"portal-gateway\"");

      HttpResponse<String> good = get(g, "/peer/mcp/", mcpKey);
      assertThat(good.statusCode()).isEqualTo(200);
      assertThat(good.body()).isEqualTo("backend saw authorization=false");

      HttpResponse<String> otherLease = get(g, "/peer/billing/", mcpKey);
      assertThat(otherLease.statusCode()).isEqualTo(403);
      assertThat(otherLease.body()).contains("lease-not-allowed");
      assertThat(get(g, "/peer/billing/", billingKey).statusCode()).isEqualTo(200);

      // A key added while serving works without a restart.
      String lateKey = addKey("--name", "late", "--leases", "mcp");
      awaitStatus(g, 200, "/peer/mcp/", lateKey);

      // revoke-key: refused within the reload interval.
      GatewayProcess.Result revoke = command("revoke-key", idOf(mcpKey));
      assertThat(revoke.exitCode()).as(revoke.stderr()).isZero();
      awaitStatus(g, 401, "/peer/mcp/", mcpKey);
      assertThat(get(g, "/peer/mcp/", mcpKey).body()).contains("revoked-api-key");

      // An expired key: made to expire in a few seconds, seen working, then refused.
      String shortLived = addKey("--name", "short", "--leases", "mcp", "--expires", "5s");
      awaitStatus(g, 200, "/peer/mcp/", shortLived);
      awaitStatus(g, 401, "/peer/mcp/", shortLived);
      assertThat(get(g, "/peer/mcp/", shortLived).body()).contains("expired-api-key");

      // A hand edit of the file while serving: the billing key may now reach mcp as well.
      Files.writeString(keysFile, Files.readString(keysFile).replace("  - billing\n", "  - billing\n  - mcp\n"));
      awaitStatus(g, 200, "/peer/mcp/", billingKey);

      // rotate-key: the new secret works, and so does the old one during the overlap.
      GatewayProcess.Result rotate = command("rotate-key", idOf(lateKey), "--overlap", "1h");
      assertThat(rotate.exitCode()).as(rotate.stderr()).isZero();
      Matcher m = EXPORT.matcher(rotate.stdout());
      assertThat(m.find()).isTrue();
      String rotatedKey = m.group(1);
      keysMade.add(rotatedKey);
      assertThat(idOf(rotatedKey)).isEqualTo(idOf(lateKey));
      awaitStatus(g, 200, "/peer/mcp/", rotatedKey);
      assertThat(get(g, "/peer/mcp/", lateKey).statusCode()).isEqualTo(200);

      String metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.adminPort + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("portal_gateway_auth_apikey_requests_total{outcome=\"allowed\",}")
          .contains("portal_gateway_auth_apikey_requests_total{outcome=\"revoked\",}");

      assertThat(g.terminate()).isZero();
      String gatewayLogs = g.stdout() + g.stderr();
      assertThat(gatewayLogs).contains("\"event\":\"auth_failure\"", "\"reason\":\"lease_not_allowed\"",
          "\"event\":\"key_revoked\"");
      assertThat(commandLogs).contains("\"event\":\"key_added\"", "\"event\":\"key_revoked\"", "\"event\":\"key_rotated\"");
      for (String key : keysMade) {
        String secret = key.substring(key.lastIndexOf('_') + 1);
        assertThat(gatewayLogs).as("gateway log").doesNotContain(secret);
        assertThat(commandLogs.toString()).as("command logs").doesNotContain(secret);
      }
    }
    String finalFile = Files.readString(keysFile);
    for (String key : keysMade) {
      assertThat(finalFile).doesNotContain(key.substring(key.lastIndexOf('_') + 1));
    }
  }

  @Test
  void commandsSayWhatIsWrong() throws Exception {
    GatewayProcess.Result noGenerate = command("add-key", "--name", "x");
    assertThat(noGenerate.exitCode()).isEqualTo(2);
    assertThat(noGenerate.stderr()).contains("--generate");

    GatewayProcess.Result badCidr = command("add-key", "--name", "x", "--generate", "--cidrs", "10.0.0.0/99");
    assertThat(badCidr.exitCode()).isEqualTo(2);
    assertThat(badCidr.stderr()).contains("--cidrs", "prefix length");

    GatewayProcess.Result bogus = command("list-keys", "--bogus");
    assertThat(bogus.exitCode()).isEqualTo(2);
    assertThat(bogus.stderr()).contains("unknown option --bogus");

    GatewayProcess.Result past = command("add-key", "--name", "x", "--generate", "--expires", "2020-01-01T00:00:00Z");
    assertThat(past.exitCode()).isEqualTo(2);
    assertThat(past.stderr()).contains("not in the future");

    GatewayProcess.Result unknown = command("revoke-key", "NoSuchKey123");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.stderr()).contains("NoSuchKey123", "list-keys");

    GatewayProcess.Result empty = command("list-keys");
    assertThat(empty.exitCode()).isZero();
    assertThat(empty.stdout()).contains("No keys");
    assertThat(Files.exists(keysFile)).isFalse();
  }
}
