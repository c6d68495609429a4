package dev.portalgateway.plugins.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin as the gateway runs it: the built jar ({@code target/auth-apikey.jar}, with its
 * bundled libraries) loaded from a plugins directory by a real gateway, real HTTP in front, a
 * real backend behind that reports what reached it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiKeyGatewayIT {
  @TempDir
  static Path pluginsDir;

  @TempDir
  Path dir;

  private Path keysPath;
  private KeysFile keysFile;
  private TestBackend backend;
  private TestGateway gateway;
  private final AtomicReference<String> seen = new AtomicReference<>();

  @BeforeAll
  static void installBuiltJar() throws Exception {
    Path jar = Path.of("target/auth-apikey.jar");
    assertThat(jar).as("the plugin jar, built in the package phase").exists();
    Files.copy(jar, pluginsDir.resolve("auth-apikey.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  @BeforeEach
  void startBackend() throws Exception {
    keysPath = dir.resolve("keys.yaml");
    keysFile = new KeysFile(keysPath);
    backend = new TestBackend().route("/", ex -> {
      seen.set(TestBackend.describe(ex, ex.getRequestBody().readAllBytes().length));
      TestBackend.respond(ex, 200, "text/plain", "ok");
    });
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    backend.close();
  }

  private void start(String pluginSettings, TestKeys.Issued... keys) throws Exception {
    keysFile.update(k -> java.util.Arrays.stream(keys).map(TestKeys.Issued::stored).toList());
    gateway = TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir + "\"\n"
        + "upstreams:\n  mcp: \"" + backend.url() + "\"\n  billing: \"" + backend.url() + "\"\n"
        + "  team-blue: \"" + backend.url() + "\"\n  status: \"" + backend.url() + "\"\n"
        + "plugins:\n  auth-apikey:\n    keys_file: \"" + keysPath + "\"\n    reload_interval: 100ms\n" + pluginSettings, dir);
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    seen.set(null);
    return gateway.get(path, headers);
  }

  private static String bearer(TestKeys.Issued k) {
    return "Bearer " + k.text();
  }

  @Test
  void noKeyGets401WithABearerChallengeAndNeverReachesTheBackend() throws Exception {
    start("");
    HttpResponse<String> r = get("/peer/mcp/tools");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"portal-gateway\"");
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(r.body()).contains("urn:portal-gateway:problem:missing-api-key");
    assertThat(seen.get()).isNull();
  }

  @Test
  void aGoodKeyIsLetThroughAndRemovedBeforeForwarding() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "mcp");
    start("", k);

    HttpResponse<String> r = get("/peer/mcp/tools?x=1", "Authorization", bearer(k));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("path=/tools", "query=x=1").doesNotContain("h.authorization", k.key().secret());

    r = get("/peer/mcp/tools", "X-API-Key", k.text());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen.get()).doesNotContain("h.x-api-key", k.key().secret());
  }

  @Test
  void anotherAuthorizationSchemeIsLeftForTheBackend() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "mcp");
    start("", k);
    HttpResponse<String> r = get("/peer/mcp/", "X-API-Key", k.text(), "Authorization", "Basic dXNlcjpwdw==");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("h.authorization=Basic dXNlcjpwdw==").doesNotContain("h.x-api-key");
  }

  @Test
  void aQueryKeyWorksOnlyForKeysThatAllowItAndIsNeverForwarded() throws Exception {
    TestKeys.Issued webhook = TestKeys.issue("webhook", "mcp").with(TestKeys::withQueryKeyAllowed);
    TestKeys.Issued plain = TestKeys.issue("plain", "mcp");
    start("", webhook, plain);

    HttpResponse<String> r = get("/peer/mcp/hook?a=1&api_key=" + webhook.text() + "&b=2");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("query=a=1&b=2").doesNotContain(webhook.key().secret());

    r = get("/peer/mcp/hook?api_key=" + plain.text());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("api-key-in-query-not-allowed");
    assertThat(seen.get()).isNull();
  }

  @Test
  void wrongMalformedAndUnknownKeysGet401InvalidToken() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "mcp");
    start("", k);
    ApiKey wrongSecret = ApiKey.withNewSecret(TestKeys.RANDOM, k.key().id());
    ApiKey unknownId = ApiKey.generate(TestKeys.RANDOM);
    for (String presented : List.of(wrongSecret.text(), unknownId.text(), "sk_live_nonsense", k.text() + "x")) {
      HttpResponse<String> r = get("/peer/mcp/", "Authorization", "Bearer " + presented);
      assertThat(r.statusCode()).as(presented).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate"))
          .hasValue("Bearer realm=\"portal-gateway\", error=\"invalid_token\"");
      assertThat(r.body()).contains("invalid-api-key");
    }
    assertThat(seen.get()).isNull();
  }

  @Test
  void aKeyReachesOnlyItsLeases() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "mcp", "team-*");
    start("", k);
    assertThat(get("/peer/mcp/", "Authorization", bearer(k)).statusCode()).isEqualTo(200);
    assertThat(get("/peer/team-blue/", "Authorization", bearer(k)).statusCode()).isEqualTo(200);
    HttpResponse<String> r = get("/peer/billing/", "Authorization", bearer(k));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("lease-not-allowed", k.key().id(), "billing");
    assertThat(seen.get()).isNull();
  }

  @Test
  void requiredScopesAreChecked() throws Exception {
    TestKeys.Issued reader = TestKeys.issue("reader", "*").with(s -> TestKeys.withScopes(s, "read"));
    TestKeys.Issued payer = TestKeys.issue("payer", "*").with(s -> TestKeys.withScopes(s, "read", "billing:write"));
    start("    required_scopes:\n      billing: [billing:write]\n      \"*\": [read]\n", reader, payer);
    assertThat(get("/peer/mcp/", "Authorization", bearer(reader)).statusCode()).isEqualTo(200);
    HttpResponse<String> r = get("/peer/billing/", "Authorization", bearer(reader));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("scope-missing", "billing:write");
    assertThat(get("/peer/billing/", "Authorization", bearer(payer)).statusCode()).isEqualTo(200);
  }

  @Test
  void aKeyBoundToOtherAddressesIsRefusedFromThisOne() throws Exception {
    TestKeys.Issued office = TestKeys.issue("office", "*").with(s -> TestKeys.withCidrs(s, "10.0.0.0/8"));
    TestKeys.Issued local = TestKeys.issue("local", "*").with(s -> TestKeys.withCidrs(s, "127.0.0.0/8", "::1/128"));
    start("", office, local);
    HttpResponse<String> r = get("/peer/mcp/", "Authorization", bearer(office));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("client-address-not-allowed");
    assertThat(get("/peer/mcp/", "Authorization", bearer(local)).statusCode()).isEqualTo(200);
  }

  @Test
  void globalDeniedAddressesComeBeforeKeysAndPublicLeases() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "*");
    start("    public_leases: [status]\n    denied_cidrs: [\"127.0.0.0/8\"]\n", k);
    HttpResponse<String> r = get("/peer/mcp/", "Authorization", bearer(k));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("client-address-denied");
    assertThat(get("/peer/status/").statusCode()).isEqualTo(403);
  }

  @Test
  void anAllowListLeavesOutEveryoneElse() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "*");
    start("    allowed_cidrs: [\"10.0.0.0/8\"]\n", k);
    assertThat(get("/peer/mcp/", "Authorization", bearer(k)).statusCode()).isEqualTo(403);
  }

  @Test
  void publicLeasesNeedNoKeyAndStillNeverSeeOne() throws Exception {
    TestKeys.Issued k = TestKeys.issue("claude", "mcp").with(TestKeys::withQueryKeyAllowed);
    start("    public_leases: [status]\n", k);
    assertThat(get("/peer/status/health").statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("path=/health");
    assertThat(get("/peer/status/health?api_key=" + k.text(), "X-API-Key", k.text(), "Authorization", bearer(k))
        .statusCode()).isEqualTo(200);
    assertThat(seen.get()).doesNotContain(k.key().secret()).doesNotContain("h.x-api-key", "h.authorization");
    assertThat(get("/peer/mcp/").statusCode()).isEqualTo(401);
  }

  @Test
  void aPercentEncodedQueryKeyNameIsStrippedToo() throws Exception {
    TestKeys.Issued k = TestKeys.issue("webhook", "mcp").with(TestKeys::withQueryKeyAllowed);
    start("", k);
    assertThat(get("/peer/mcp/hook?api%5Fkey=" + k.text() + "&keep=1").statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("query=keep=1").doesNotContain(k.key().secret());
  }

  @Test
  void revokingEditingAndExpiringInTheFileTakeEffectWhileServing() throws Exception {
    TestKeys.Issued a = TestKeys.issue("a", "mcp");
    TestKeys.Issued b = TestKeys.issue("b", "mcp");
    start("", a, b);
    assertThat(get("/peer/mcp/", "Authorization", bearer(a)).statusCode()).isEqualTo(200);
    assertThat(get("/peer/mcp/", "Authorization", bearer(b)).statusCode()).isEqualTo(200);
    assertThat(get("/peer/billing/", "Authorization", bearer(b)).statusCode()).isEqualTo(403);

    // What revoke-key does, an edit of b's leases, as an operator would make them.
    keysFile.update(keys -> keys.stream().map(k -> k.id().equals(a.key().id()) ? k.revokedAt(Instant.now())
        : TestKeys.withLeases(k, "mcp", "billing")).toList());
    awaitStatus(401, "/peer/mcp/", bearer(a));
    assertThat(get("/peer/mcp/", "Authorization", bearer(a)).body()).contains("revoked-api-key");
    awaitStatus(200, "/peer/billing/", bearer(b));

    keysFile.update(keys -> keys.stream().map(k -> TestKeys.expiringAt(k, Instant.now().minusSeconds(1))).toList());
    awaitStatus(401, "/peer/mcp/", bearer(b));
    assertThat(get("/peer/mcp/", "Authorization", bearer(b)).body()).contains("expired-api-key");
    assertThat(gateway.metrics()).contains("portal_gateway_auth_apikey_keys_file_reloads_total{result=\"applied\",} 2.0");
  }

  @Test
  void aBrokenEditIsRefusedAndThePreviousKeysStayInForce() throws Exception {
    TestKeys.Issued a = TestKeys.issue("a", "mcp");
    start("", a);
    assertThat(get("/peer/mcp/", "Authorization", bearer(a)).statusCode()).isEqualTo(200);
    Files.writeString(keysPath, "keys: [ {id: ");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!gateway.metrics().contains("keys_file_reloads_total{result=\"refused\",} 1.0")) {
      assertThat(System.nanoTime()).as("the broken file was noticed").isLessThan(deadline);
      Thread.sleep(50);
    }
    assertThat(get("/peer/mcp/", "Authorization", bearer(a)).statusCode()).isEqualTo(200);
  }

  @Test
  void anEmptiedFileOrADuplicateIsRefusedButADeletedFileMeansNoKeys() throws Exception {
    TestKeys.Issued a = TestKeys.issue("a", "mcp");
    start("", a);
    // Truncated as an editor saves it: the keys stay (it would otherwise lock everyone out).
    Files.write(keysPath, new byte[0]);
    awaitMetric("keys_file_reloads_total{result=\"refused\",} 1.0");
    assertThat(get("/peer/mcp/", "Authorization", bearer(a)).statusCode()).isEqualTo(200);
    // A field twice in one key: refused too, naming the line.
    String text = "version: 1\nkeys:\n  - id: " + a.stored().id() + "\n    hash: \"" + a.stored().hash() + "\"\n"
        + "    leases: [mcp]\n    leases: [\"*\"]\n";
    Files.writeString(keysPath, text);
    awaitMetric("keys_file_reloads_total{result=\"refused\",} 2.0");
    assertThat(get("/peer/mcp/", "Authorization", bearer(a)).statusCode()).isEqualTo(200);
    // Deleted: no keys, as documented.
    Files.delete(keysPath);
    awaitStatus(401, "/peer/mcp/", bearer(a));
  }

  @Test
  void anEmptyKeysFileStopsTheStart() throws Exception {
    Files.write(keysPath, new byte[0]);
    assertThatThrownBy(() -> TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir + "\"\n"
        + "upstreams:\n  mcp: \"" + backend.url() + "\"\n"
        + "plugins:\n  auth-apikey:\n    keys_file: \"" + keysPath + "\"\n", dir))
        .hasMessageContaining("plugins.auth-apikey.keys_file").hasMessageContaining("the keys file is empty");
  }

  private void awaitMetric(String line) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!gateway.metrics().contains(line)) {
      assertThat(System.nanoTime()).as(line).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void rotationKeepsTheOldSecretForTheOverlapOnly() throws Exception {
    TestKeys.Issued old = TestKeys.issue("a", "mcp");
    ApiKey next = ApiKey.withNewSecret(TestKeys.RANDOM, old.key().id());
    TestKeys.Issued rotated = new TestKeys.Issued(next,
        old.stored().rotatedTo(KeyVerifier.hash(next.secret(), 4), Instant.now().plusSeconds(3600)));
    start("", rotated);
    assertThat(get("/peer/mcp/", "Authorization", bearer(old)).statusCode()).isEqualTo(200);
    assertThat(get("/peer/mcp/", "Authorization", "Bearer " + next.text()).statusCode()).isEqualTo(200);

    keysFile.update(keys -> List.of(old.stored().rotatedTo(rotated.stored().hash(), Instant.now().minusSeconds(1))));
    awaitStatus(401, "/peer/mcp/", bearer(old));
    assertThat(get("/peer/mcp/", "Authorization", bearer(old)).body()).contains("rotated-api-key");
    assertThat(get("/peer/mcp/", "Authorization", "Bearer " + next.text()).statusCode()).isEqualTo(200);
  }

  @Test
  void repeatedFailuresFromOneAddressAreThrottledButAVerifiedKeyStillWorks() throws Exception {
    TestKeys.Issued k = TestKeys.issue("a", "mcp");
    start("    failure_limit: 3\n    failure_window: 10m\n", k);
    assertThat(get("/peer/mcp/", "Authorization", bearer(k)).statusCode()).isEqualTo(200);
    for (int i = 0; i < 3; i++) {
      String guess = ApiKey.withNewSecret(TestKeys.RANDOM, k.key().id()).text();
      assertThat(get("/peer/mcp/", "Authorization", "Bearer " + guess).statusCode()).isEqualTo(401);
    }
    String guess = ApiKey.withNewSecret(TestKeys.RANDOM, k.key().id()).text();
    HttpResponse<String> r = get("/peer/mcp/", "Authorization", "Bearer " + guess);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("600");
    assertThat(r.body()).contains("too-many-failed-authentications");
    assertThat(get("/peer/mcp/", "Authorization", bearer(k)).statusCode()).as("cached, so no bcrypt to protect")
        .isEqualTo(200);
    String metrics = gateway.metrics();
    assertThat(metrics).contains("portal_gateway_auth_apikey_requests_total{outcome=\"throttled\",} 1.0")
        .contains("portal_gateway_auth_apikey_requests_total{outcome=\"wrong_secret\",} 3.0")
        .contains("portal_gateway_auth_apikey_requests_total{outcome=\"allowed\",} 2.0")
        .contains("portal_gateway_auth_apikey_bcrypt_checks_total 4.0");
  }

  @Test
  void aBrokenKeysFileStopsTheGatewayFromStartingWithTheFileNamed() throws Exception {
    Files.writeString(keysPath, "keys:\n  - id: abcdefgh1234\n    hash: plain-text-secret\n    leases: ['*']\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir
            + "\"\nplugins:\n  auth-apikey:\n    keys_file: \"" + keysPath + "\"\n", dir))
        .hasMessageContaining("plugins.auth-apikey.keys_file").hasMessageContaining(keysPath.toString())
        .hasMessageContaining("bcrypt hash");
  }

  @Test
  void badSettingsAreRefusedWithTheKey() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir
            + "\"\nplugins:\n  auth-apikey:\n    denied_cidrs: [\"10.0.0.0/40\"]\n    bcrypt_cost: 31\n", dir))
        .hasMessageContaining("plugins.auth-apikey.bcrypt_cost");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestGateway.start("jdk", "  plugins_dir: \"" + pluginsDir
            + "\"\nplugins:\n  auth-apikey:\n    keys_flie: x.yaml\n", dir))
        .hasMessageContaining("keys_flie");
  }

  /** Set for the forked test JVM by this module's pom (failsafe's environmentVariables). */
  private static final String ENV_KEY = System.getenv("APIKEY_IT_STATIC_KEY");

  @Test
  void staticKeysFromTheEnvironmentAndASecretFileWorkBesideTheKeysFile() throws Exception {
    assertThat(ApiKey.parse(ENV_KEY)).as("APIKEY_IT_STATIC_KEY from the pom, a key in the generated format").isNotNull();
    TestKeys.Issued inFile = TestKeys.issue("claude", "mcp");
    ApiKey secretKey = ApiKey.generate(TestKeys.RANDOM);
    Path secret = Files.createDirectories(dir.resolve("secrets")).resolve("ci_key");
    Files.writeString(secret, secretKey.text() + "\n"); // as `new-key > file` writes it
    start("""
            static_keys:
              n8n: { env: APIKEY_IT_STATIC_KEY, leases: [mcp] }
              ci: { file: "%s", leases: [billing], scopes: [read] }
        """.formatted(secret), inFile);

    HttpResponse<String> r = get("/peer/mcp/hook", "Authorization", "Bearer " + ENV_KEY);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("path=/hook").doesNotContain("h.authorization", ENV_KEY.substring(20));
    r = get("/peer/billing/", "Authorization", "Bearer " + ENV_KEY);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("lease-not-allowed", "ItStaticKey01");

    assertThat(get("/peer/billing/", "X-API-Key", secretKey.text()).statusCode()).isEqualTo(200);
    assertThat(seen.get()).doesNotContain("h.x-api-key", secretKey.secret());
    assertThat(get("/peer/mcp/", "X-API-Key", secretKey.text()).statusCode()).isEqualTo(403);
    assertThat(get("/peer/mcp/", "Authorization", bearer(inFile)).statusCode()).as("the keys file still counts")
        .isEqualTo(200);

    String wrong = ApiKey.withNewSecret(TestKeys.RANDOM, "ItStaticKey01").text();
    r = get("/peer/mcp/", "Authorization", "Bearer " + wrong);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("invalid-api-key");
    r = get("/peer/mcp/?api_key=" + ENV_KEY);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("api-key-in-query-not-allowed");
    assertThat(gateway.metrics())
        .contains("portal_gateway_auth_apikey_requests_total{outcome=\"allowed\",} 3.0")
        .contains("portal_gateway_auth_apikey_requests_total{outcome=\"wrong_secret\",} 1.0")
        .contains("portal_gateway_auth_apikey_bcrypt_checks_total 1.0"); // the keys file's key only
  }

  @Test
  void aStaticKeyThatIsMissingOrMalformedStopsTheGatewayWithoutShowingTheValue() throws Exception {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start("""
            static_keys:
              n8n: { env: APIKEY_IT_NOT_SET, leases: [mcp] }
        """))
        .hasMessageContaining("plugins.auth-apikey.static_keys.n8n.env")
        .hasMessageContaining("APIKEY_IT_NOT_SET is not set");

    Path secret = dir.resolve("not-a-key");
    Files.writeString(secret, "correct-horse-battery-staple-but-not-a-key\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start("""
            static_keys:
              ci: { file: "%s", leases: [mcp] }
        """.formatted(secret)))
        .hasMessageContaining("plugins.auth-apikey.static_keys.ci.file")
        .hasMessageContaining("does not hold an API key")
        .hasMessageContaining("new-key")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("correct-horse"));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start("""
            static_keys:
              ci: { file: "%s", leases: [mcp] }
        """.formatted(dir.resolve("absent"))))
        .hasMessageContaining("plugins.auth-apikey.static_keys.ci.file").hasMessageContaining("does not exist");

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start("""
            static_keys:
              n8n: { env: APIKEY_IT_STATIC_KEY, file: "%s", leases: [mcp] }
        """.formatted(secret)))
        .hasMessageContaining("plugins.auth-apikey.static_keys.n8n: give exactly one of env");
  }

  @Test
  void aKeysFileEntryWithAStaticKeysIdIsRefused() throws Exception {
    TestKeys.Issued clash = TestKeys.issue("copy", "mcp");
    StoredKey sameId = new StoredKey("ItStaticKey01", "copy", clash.stored().hash(), List.of("*"), List.of(),
        List.of(), false, null, null, false, null, null, null);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start("""
            static_keys:
              n8n: { env: APIKEY_IT_STATIC_KEY, leases: [mcp] }
        """, new TestKeys.Issued(clash.key(), sameId)))
        .hasMessageContaining("plugins.auth-apikey.keys_file")
        .hasMessageContaining("the key id ItStaticKey01 is a static key's");
  }

  private void awaitStatus(int status, String path, String authorization) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      int got = get(path, "Authorization", authorization).statusCode();
      if (got == status) {
        return;
      }
      assertThat(System.nanoTime()).as("waiting for %d on %s, still %d", status, path, got).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
