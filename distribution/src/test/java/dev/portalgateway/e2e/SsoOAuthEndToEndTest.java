package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code examples/sso-oauth/gateway.yaml} as a user runs it: the built jar, configured only by the
 * environment variables the example names, a real OIDC provider (mock-oauth2-server), a real MCP
 * server (server-everything), and the MCP TypeScript SDK's own OAuth client, which finds the IdP
 * through the gateway's 401 and metadata, gets a token and calls a tool, with no header made by
 * hand. An API key works on the same route.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SsoOAuthEndToEndTest {
  private static final Pattern EXPORT = Pattern.compile("(?m)^export GATEWAY_KEY=(sk_live_\\S+)$");
  private static final String AUDIENCE = "portal-gateway-e2e";

  @TempDir
  Path dir;

  @Test
  void anMcpClientSignsInThroughDiscoveryAndAnApiKeyWorksBesideIt() throws Exception {
    DefaultOAuth2TokenCallback alice = new DefaultOAuth2TokenCallback("default", "alice", "JWT", List.of(AUDIENCE),
        Map.of("email", "alice@example.com"), 3600);
    MockOAuth2Server idp = new MockOAuth2Server(new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(),
        Set.of(alice)));
    idp.start();
    try (ServerEverything mcp = ServerEverything.start(dir)) {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      String publicUrl = "http://127.0.0.1:" + port;
      Map<String, String> env = new HashMap<>();
      env.put("GATEWAY_LISTEN", "127.0.0.1:" + port);
      env.put("GATEWAY_ADMIN_LISTEN", "127.0.0.1:0");
      env.put("GATEWAY_PLUGINS_DIR", GatewayProcess.DIST.resolve("plugins").toString());
      env.put("GATEWAY_DATA_DIR", dir.resolve("data").toString());
      env.put("GATEWAY_PUBLIC_URL", publicUrl);
      env.put("OIDC_ISSUER", idp.issuerUrl("default").toString());
      env.put("OIDC_AUDIENCE", AUDIENCE);
      env.put("OIDC_CLIENT_ID", "mcp-client");
      env.put("OIDC_CLIENT_SECRET", "not-checked-by-this-idp");
      env.put("BACKEND_URL", "http://127.0.0.1:" + mcp.port);
      Path example = Path.of("../examples/sso-oauth/gateway.yaml").toAbsolutePath().normalize();
      Path config = dir.resolve("gateway.yaml");
      Files.copy(example, config);

      GatewayProcess.Result added = GatewayProcess.run(dir, env, "add-key", "--generate", "--name", "ci", "--leases", "mcp",
          "--config", config.toString());
      assertThat(added.exitCode()).as(added.stderr()).isZero();
      Matcher m = EXPORT.matcher(added.stdout());
      assertThat(m.find()).as(added.stdout()).isTrue();
      String apiKey = m.group(1);

      try (GatewayProcess g = GatewayProcess.serve(dir, config, env)) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String endpoint = publicUrl + "/peer/mcp/mcp";

        // Without credentials: one 401 naming both ways in.
        HttpResponse<String> none = http.send(initialize(endpoint).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(String.join(" | ", none.headers().allValues("WWW-Authenticate")))
            .contains("resource_metadata=\"" + publicUrl + "/.well-known/oauth-protected-resource/peer/mcp/mcp\"");

        // The SDK's OAuth client: 401 -> metadata -> the IdP's authorization and token endpoints -> a tool call.
        // Then, after a pause longer than the MCP server's (Node's default) 5 s keep-alive, a second
        // call in the same session, with the same token.
        String out = ServerEverything.runNode("oauth-client.mjs", endpoint, "mcp-client", "not-checked-by-this-idp",
            "6000");
        JsonNode result = new ObjectMapper().readTree(out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
            .orElseThrow());
        assertThat(result.path("ok").asBoolean()).as(out).isTrue();
        assertThat(result.path("echo").asText()).contains("hello through sso");
        assertThat(result.path("afterPause").asText()).contains("again after a pause");
        assertThat(result.path("resource").asText()).as("the RFC 8707 resource the client asked for").isEqualTo(endpoint);
        assertThat(result.path("steps").toString()).contains("\"401\"", "\"metadata 200\"", "\"authorize\"", "\"token\"");

        // An API key on the same route goes to auth-apikey.
        HttpResponse<String> keyed = http.send(initialize(endpoint).header("Authorization", "Bearer " + apiKey).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(keyed.statusCode()).as(keyed.body()).isEqualTo(200);
        assertThat(keyed.body()).contains("serverInfo");

        // Route "app" logs people in: a page request goes to the IdP, comes back to the callback, and
        // lands on the page with a session cookie (the redirects followed one by one, as a browser does).
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(publicUrl + "/peer/app/page"))
            .header("Accept", "text/html").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).as(page.body()).isEqualTo(302);
        String authorize = page.headers().firstValue("Location").orElseThrow();
        assertThat(authorize).startsWith(idp.issuerUrl("default").toString())
            .contains("client_id=mcp-client", "code_challenge_method=S256",
                "redirect_uri=" + java.net.URLEncoder.encode(publicUrl + "/oauth2/callback", java.nio.charset.StandardCharsets.UTF_8));
        String loginCookie = page.headers().allValues("Set-Cookie").get(0);
        loginCookie = loginCookie.substring(0, loginCookie.indexOf(';'));
        HttpResponse<String> code = http.send(HttpRequest.newBuilder(URI.create(authorize)).build(),
            HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> back = http.send(HttpRequest.newBuilder(URI.create(code.headers().firstValue("Location")
            .orElseThrow())).header("Cookie", loginCookie).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(back.statusCode()).as(back.body()).isEqualTo(302);
        assertThat(back.headers().firstValue("Location")).hasValue(publicUrl + "/peer/app/page");
        String session = back.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("portal_session="))
            .findFirst().orElseThrow();
        assertThat(session).contains("HttpOnly", "SameSite=Lax", "Path=/");
        HttpResponse<String> in = http.send(HttpRequest.newBuilder(URI.create(publicUrl + "/peer/app/page"))
            .header("Accept", "text/html").header("Cookie", session.substring(0, session.indexOf(';'))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(in.statusCode()).as("the service's own answer, not a login").isNotIn(302, 401);

        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.adminPort + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("portal_gateway_sso_oauth_authentications_total{result=\"ok\",}",
            "portal_gateway_sso_oauth_authentications_total{result=\"login_ok\",} 1.0");
        assertThat(g.stdout() + g.stderr()).as("tokens never reach the log").doesNotContain(".eyJ");
      }
    } finally {
      idp.shutdown();
    }
  }

  private static HttpRequest.Builder initialize(String endpoint) {
    return HttpRequest.newBuilder(URI.create(endpoint)).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
            + "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"curl\",\"version\":\"1\"}}}"));
  }
}
