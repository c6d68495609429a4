package dev.portalgateway.plugins.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.KeyProvider;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin as the gateway runs it (its built jar from a plugins directory), against a real OIDC
 * provider in the same JVM (mock-oauth2-server: discovery, JWKS, signed tokens), a real backend
 * behind.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SsoOAuthGatewayIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path pluginsDir;

  @TempDir
  Path dir;

  private RotatingKeys keys;
  private MockOAuth2Server idp;
  private String issuer;
  private TestBackend backend;
  private TestGateway gateway;
  private final AtomicReference<String> seen = new AtomicReference<>();

  /** The IdP's signing key, replaceable: the built-in JWKS then lists only the new one. */
  static final class RotatingKeys extends KeyProvider {
    private final AtomicReference<RSAKey> current = new AtomicReference<>();

    RotatingKeys(String kid) throws JOSEException {
      super(List.of(), "RS256");
      rotate(kid);
    }

    void rotate(String kid) throws JOSEException {
      current.set(new RSAKeyGenerator(2048).keyID(kid).generate());
    }

    @Override
    public JWK signingKey(String issuerId) {
      return current.get();
    }
  }

  @BeforeAll
  static void installBuiltJars() throws Exception {
    Path jar = Path.of("target/sso-oauth.jar");
    assertThat(jar).as("the plugin jar, built in the package phase").exists();
    Files.copy(jar, pluginsDir.resolve("sso-oauth.jar"), StandardCopyOption.REPLACE_EXISTING);
    Path limits = Path.of("../ratelimit-token-cost/target/ratelimit-token-cost.jar");
    assertThat(limits).as("the ratelimit-token-cost jar, built before this module").exists();
    Files.copy(limits, pluginsDir.resolve("ratelimit-token-cost.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  @BeforeEach
  void startIdpAndBackend() throws Exception {
    keys = new RotatingKeys("key-1");
    idp = new MockOAuth2Server(new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(keys)));
    idp.start();
    issuer = idp.issuerUrl("default").toString();
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
    try {
      idp.shutdown();
    } catch (RuntimeException alreadyStopped) {
      // a test stopped it to play an outage
    }
  }

  private void start(String issuerUrl, String more) throws Exception {
    gateway = TestGateway.start("portal", "  plugins_dir: \"" + pluginsDir + "\"\n"
        + "upstreams:\n  mcp: \"" + backend.url() + "\"\n  billing: \"" + backend.url() + "\"\n"
        + "  team-blue: \"" + backend.url() + "\"\n"
        + "plugins:\n  sso-oauth:\n    issuers: [\"" + issuerUrl + "\"]\n    root_resource: mcp\n"
        + "    discovery_retry: 200ms\n    jwks_min_interval: 100ms\n"
        + "    required_scopes: { billing: [\"billing:read\"] }\n"
        + "    allowed_groups: { team-blue: [\"ai-team\"] }\n" + more, dir);
  }

  private String base() {
    return "http://127.0.0.1:" + gateway.port();
  }

  private String resource(String route) {
    return base() + "/peer/" + route;
  }

  private String token(String sub, String aud, Map<String, Object> claims) {
    return idp.issueToken("default", sub, aud, claims, 600).serialize();
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    seen.set(null);
    return token == null ? gateway.get(path) : gateway.get(path, "Authorization", "Bearer " + token);
  }

  @Test
  void noTokenGets401PointingAtMetadataThatNamesTheRouteAndTheIssuer() throws Exception {
    start(issuer, "");
    HttpResponse<String> r = get("/peer/mcp/mcp", null);
    assertThat(r.statusCode()).isEqualTo(401);
    String metadataUrl = base() + "/.well-known/oauth-protected-resource/peer/mcp/mcp";
    assertThat(r.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer realm=\"portal-gateway\", resource_metadata=\"" + metadataUrl + "\"");
    assertThat(seen.get()).isNull();

    // Each describes the URL the client called (clients compare strictly); the root, root_resource.
    Map<String, String> described = Map.of(
        "/.well-known/oauth-protected-resource/peer/mcp/mcp", resource("mcp") + "/mcp",
        "/.well-known/oauth-protected-resource/peer/mcp", resource("mcp"),
        "/.well-known/oauth-protected-resource", resource("mcp"));
    for (Map.Entry<String, String> d : described.entrySet()) {
      String path = d.getKey();
      HttpResponse<String> m = gateway.get(path);
      assertThat(m.statusCode()).as(path).isEqualTo(200);
      JsonNode doc = JSON.readTree(m.body());
      assertThat(doc.path("resource").asText()).as(path).isEqualTo(d.getValue());
      assertThat(doc.path("authorization_servers").get(0).asText()).isEqualTo(issuer);
      assertThat(doc.path("bearer_methods_supported").get(0).asText()).isEqualTo("header");
    }
    JsonNode billing = JSON.readTree(gateway.get("/.well-known/oauth-protected-resource/peer/billing").body());
    assertThat(billing.path("resource").asText()).isEqualTo(resource("billing"));
    assertThat(billing.path("scopes_supported").get(0).asText()).isEqualTo("billing:read");

    HttpResponse<String> withScope = get("/peer/billing/x", null);
    assertThat(withScope.headers().firstValue("WWW-Authenticate").orElseThrow()).endsWith("scope=\"billing:read\"");
    assertThat(gateway.get("/.well-known/oauth-protected-resource/elsewhere").statusCode()).isEqualTo(404);
  }

  @Test
  void aTokenForTheRoutesResourceReachesTheBackendWithoutTheToken() throws Exception {
    start(issuer, "");
    String t = token("alice", resource("mcp"), Map.of("email", "alice@example.com"));
    HttpResponse<String> r = get("/peer/mcp/tools?x=1", t);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen.get()).contains("path=/tools").doesNotContain("h.authorization", t);
    // Issued for the URL the client calls, below the route: the same route.
    assertThat(get("/peer/mcp/mcp", token("alice", resource("mcp") + "/mcp", Map.of())).statusCode()).isEqualTo(200);
    // A route whose name starts like this one's is another resource.
    assertThat(get("/peer/mcp/mcp", token("alice", resource("mcp") + "-admin", Map.of())).statusCode()).isEqualTo(401);

    // A configured audience is accepted too; the same token is good on another route only through it.
    HttpResponse<String> other = get("/peer/team-blue/", token("alice", "gateway-api", Map.of("groups", List.of("ai-team"))));
    assertThat(other.statusCode()).isEqualTo(401);
    gateway.close();
    start(issuer, "    audiences: [\"gateway-api\"]\n");
    other = get("/peer/team-blue/", token("alice", "gateway-api", Map.of("groups", List.of("ai-team"))));
    assertThat(other.statusCode()).isEqualTo(200);
  }

  @Test
  void badTokensGet401WithInvalidTokenAndNeverReachTheBackend() throws Exception {
    start(issuer, "");
    String aud = resource("mcp");
    Instant now = Instant.now();
    JWTClaimsSet good = new JWTClaimsSet.Builder().issuer(issuer).subject("mallory").audience(aud)
        .expirationTime(Date.from(now.plusSeconds(600))).issueTime(Date.from(now)).build();
    RSAKey forger = new RSAKeyGenerator(2048).keyID("key-1").generate(); // the IdP's kid, another key
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("key-9").generate();

    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("expired", signed(keys.current, new JWTClaimsSet.Builder(good)
        .expirationTime(Date.from(now.minusSeconds(300))).build(), JWSAlgorithm.RS256));
    cases.put("not yet valid", signed(keys.current, new JWTClaimsSet.Builder(good)
        .notBeforeTime(Date.from(now.plusSeconds(600))).build(), JWSAlgorithm.RS256));
    cases.put("forged signature", signed(forger, good, JWSAlgorithm.RS256));
    cases.put("unknown kid", signed(stranger, good, JWSAlgorithm.RS256));
    cases.put("alg none", new PlainJWT(good).serialize());
    SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("key-1").build(), good);
    hmac.sign(new MACSigner(keys.current.get().toRSAPublicKey().getEncoded()));
    cases.put("HMAC with the public key", hmac.serialize());
    cases.put("wrong audience", token("mallory", "https://elsewhere.example/mcp", Map.of()));
    cases.put("untrusted issuer", idp.issueToken("other", "mallory", aud, Map.of(), 600).serialize());
    cases.put("not a JWT", "eyJub3QiOiJqd3QifQ.eyJ4IjoxfQ.bm9wZQ");
    cases.put("no exp", signed(keys.current, new JWTClaimsSet.Builder(good).expirationTime(null).build(),
        JWSAlgorithm.RS256));

    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<String> r = get("/peer/mcp/tools", c.getValue());
      assertThat(r.statusCode()).as(c.getKey()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).as(c.getKey())
          .contains("error=\"invalid_token\"")
          .contains("resource_metadata=\"" + base() + "/.well-known/oauth-protected-resource/peer/mcp/tools\"");
      assertThat(r.body()).as(c.getKey()).contains("invalid-bearer-token").doesNotContain(c.getValue());
      assertThat(seen.get()).as(c.getKey()).isNull();
    }
    // The same claims, properly signed, pass: the cases above fail for what each changed.
    assertThat(get("/peer/mcp/tools", signed(keys.current, good, JWSAlgorithm.RS256)).statusCode()).isEqualTo(200);
  }

  @Test
  void scopesAndGroupsDecidePerRoute() throws Exception {
    start(issuer, "");
    HttpResponse<String> r = get("/peer/billing/x", token("alice", resource("billing"), Map.of("scope", "openid profile")));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow())
        .contains("error=\"insufficient_scope\"").contains("scope=\"billing:read\"");
    assertThat(seen.get()).isNull();
    assertThat(get("/peer/billing/x", token("alice", resource("billing"), Map.of("scope", "openid billing:read")))
        .statusCode()).isEqualTo(200);
    assertThat(get("/peer/billing/x", token("alice", resource("billing"), Map.of("scp", List.of("billing:read"))))
        .statusCode()).isEqualTo(200);

    r = get("/peer/team-blue/x", token("bob", resource("team-blue"), Map.of("groups", List.of("sales"))));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("group-not-allowed");
    assertThat(get("/peer/team-blue/x", token("bob", resource("team-blue"), Map.of("roles", List.of("ai-team"))))
        .statusCode()).isEqualTo(200);
  }

  @Test
  void theTokensSubjectIsTheCallerOtherPluginsCountAgainst() throws Exception {
    start(issuer, "  ratelimit-token-cost:\n    requests:\n      per_principal: { rate_per_second: 0.01, burst: 1 }\n");
    String alice = token("alice", resource("mcp"), Map.of());
    String aliceAgain = token("alice", resource("mcp"), Map.of("note", "another token, same user"));
    String bob = token("bob", resource("mcp"), Map.of());
    assertThat(get("/peer/mcp/", alice).statusCode()).isEqualTo(200);
    assertThat(get("/peer/mcp/", aliceAgain).statusCode()).isEqualTo(429);
    assertThat(get("/peer/mcp/", bob).statusCode()).isEqualTo(200);
  }

  @Test
  void newTokensPassAfterTheIdpRotatesItsKeysWithoutARestart() throws Exception {
    start(issuer, "");
    assertThat(get("/peer/mcp/", token("alice", resource("mcp"), Map.of())).statusCode()).isEqualTo(200);
    keys.rotate("key-2"); // the IdP now signs with key-2 and publishes only key-2
    String fresh = token("alice", resource("mcp"), Map.of());
    HttpResponse<String> r = get("/peer/mcp/", fresh);
    for (long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
         r.statusCode() != 200 && System.nanoTime() < deadline; ) {
      r = get("/peer/mcp/", fresh); // a refetch may wait out jwks_min_interval
    }
    assertThat(r.statusCode()).isEqualTo(200);
  }

  @Test
  void anIdpOutageAfterStartKeepsNewTokensWorkingWithTheKeysAlreadyFetched() throws Exception {
    start(issuer, "");
    assertThat(get("/peer/mcp/", token("alice", resource("mcp"), Map.of())).statusCode()).isEqualTo(200);
    String fresh = token("bob", resource("mcp"), Map.of()); // signed now, never seen by the gateway
    idp.shutdown();
    HttpResponse<String> r = get("/peer/mcp/", fresh);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void aTokenVerifiedBeforeIsRefusedFromItsExpiryOn() throws Exception {
    start(issuer, "    clock_skew: 0s\n");
    String t = idp.issueToken("default", "alice", resource("mcp"), Map.of(), 2).serialize();
    assertThat(get("/peer/mcp/", t).statusCode()).as("verified and remembered").isEqualTo(200);

    // Remembered, it is still checked against its exp on every request.
    HttpResponse<String> r = get("/peer/mcp/", t);
    for (long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
         r.statusCode() == 200 && System.nanoTime() < deadline; ) {
      LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
      r = get("/peer/mcp/", t);
    }
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("error=\"invalid_token\"");
    assertThat(r.body()).contains("expired");
    assertThat(get("/peer/mcp/", t).statusCode()).as("and stays refused").isEqualTo(401);
    assertThat(get("/peer/mcp/", token("alice", resource("mcp"), Map.of())).statusCode()).isEqualTo(200);
  }

  @Test
  void anIdpDownAtStartGets503UntilItAnswersThenTokensWork() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String lateIssuer = "http://localhost:" + port + "/default";
    start(lateIssuer, ""); // the gateway starts although the IdP does not answer
    RSAKey someKey = new RSAKeyGenerator(2048).keyID("k").generate();
    String early = signed(someKey, new JWTClaimsSet.Builder().issuer(lateIssuer).subject("alice").audience(resource("mcp"))
        .expirationTime(Date.from(Instant.now().plusSeconds(600))).build(), JWSAlgorithm.RS256);
    HttpResponse<String> r = get("/peer/mcp/", early);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    assertThat(get("/peer/mcp/", null).statusCode()).as("no token is still plainly 401").isEqualTo(401);

    MockOAuth2Server late = new MockOAuth2Server(new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(keys)));
    late.start(port);
    try {
      String t = late.issueToken("default", "alice", resource("mcp"), Map.of(), 600).serialize();
      r = get("/peer/mcp/", t);
      for (long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
           r.statusCode() == 503 && System.nanoTime() < deadline; ) {
        Thread.onSpinWait();
        r = get("/peer/mcp/", t);
      }
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(get("/peer/mcp/", early).statusCode()).as("a forged token once the IdP is known").isEqualTo(401);
    } finally {
      late.shutdown();
    }
  }

  private static String signed(RSAKey key, JWTClaimsSet claims, JWSAlgorithm alg) throws JOSEException {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static String signed(AtomicReference<RSAKey> key, JWTClaimsSet claims, JWSAlgorithm alg) throws JOSEException {
    return signed(key.get(), claims, alg);
  }
}
