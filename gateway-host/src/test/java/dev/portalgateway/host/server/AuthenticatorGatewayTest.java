package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.TestPluginJars;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several authenticators on one route, end to end: real plugin jars, a real gateway and backend on
 * loopback, real HTTP requests. In chain order (the AUTHENTICATE phase, by name): bearer-auth,
 * header-stamp (a plain filter of the same phase), key-auth.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthenticatorGatewayTest {
  @TempDir static Path plugins;
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final AtomicInteger backendCalls = new AtomicInteger();
  private TestBackend backend;

  @BeforeAll
  static void buildPluginJars() throws Exception {
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put("test.auth.BearerAuth", TestPluginJars.pluginSource("test.auth.BearerAuth", "bearer-auth",
        Phase.AUTHENTICATE, """
            return new Authenticator() {
              @Override
              public boolean recognizes(Request request) {
                String auth = request.headers().first("Authorization");
                return auth != null && auth.startsWith("Bearer ");
              }

              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                if ("Bearer good".equals(request.headers().first("Authorization"))) {
                  return chain.proceed(request.withHeader("X-User", "bearer"));
                }
                return Response.text(401, "text/plain", "bearer: no valid token")
                    .withHeader("WWW-Authenticate", "Bearer realm=\\"gw\\"");
              }
            };
        """, ""));
    sources.put("test.auth.KeyAuth", TestPluginJars.pluginSource("test.auth.KeyAuth", "key-auth",
        Phase.AUTHENTICATE, """
            boolean anonymous = Boolean.TRUE.equals(config.asMap().get("anonymous"));
            return new Authenticator() {
              @Override
              public boolean recognizes(Request request) {
                return request.headers().contains("X-Api-Key");
              }

              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                if ("good".equals(request.headers().first("X-Api-Key"))) {
                  return chain.proceed(request.withHeader("X-User", "key"));
                }
                if (anonymous && !request.headers().contains("X-Api-Key")) {
                  return chain.proceed(request.withHeader("X-User", "anonymous"));
                }
                return Response.text(401, "text/plain", "key: no valid key")
                    .withHeader("WWW-Authenticate", "ApiKey realm=\\"gw\\"");
              }
            };
        """, ""));
    // Not an authenticator, but of the same phase: it still runs, after their decision.
    sources.put("test.auth.HeaderStamp", TestPluginJars.pluginSource("test.auth.HeaderStamp", "header-stamp",
        Phase.AUTHENTICATE,
        "return (request, chain) -> chain.proceed(request.withHeader(\"X-Stamp\", \"saw \" + request.headers()"
            + ".first(\"X-User\")));", ""));
    sources.put("test.auth.WrongPhase", TestPluginJars.pluginSource("test.auth.WrongPhase", "wrong-phase", Phase.LIMIT,
        """
            return new Authenticator() {
              @Override
              public boolean recognizes(Request request) {
                return false;
              }

              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                return chain.proceed(request);
              }
            };
        """, ""));
    TestPluginJars.build(plugins, "auth.jar", sources, String.join("\n", sources.keySet()) + "\n");
  }

  @BeforeEach
  void start() throws Exception {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
    backend = new TestBackend();
    backend.route("/", ex -> {
      backendCalls.incrementAndGet();
      TestBackend.respond(ex, 200, "text/plain", "user=" + ex.getRequestHeaders().getFirst("X-User")
          + " stamp=" + ex.getRequestHeaders().getFirst("X-Stamp"));
    });
  }

  @AfterEach
  void stop() {
    backend.close();
    JsonLog.redirect(System.out);
  }

  private TestGateway gateway(String pluginsSection) throws Exception {
    return TestGateway.start("jdk", "  plugins_dir: \"" + plugins + "\"\n  data_dir: \"" + dir + "\"\n"
        + "upstreams:\n  svc: \"" + backend.url() + "\"\n  open: \"" + backend.url() + "\"\n" + pluginsSection);
  }

  private static final String ALL_THREE = """
      plugins:
        key-auth:
          routes:
            open: { anonymous: true }
        bearer-auth: {}
        header-stamp: {}
      """;

  @Test
  void aRecognisedCredentialIsDecidedByItsAuthenticatorAlone() throws Exception {
    try (TestGateway g = gateway(ALL_THREE)) {
      HttpResponse<String> bearer = g.get("/peer/svc/", "Authorization", "Bearer good");
      assertThat(bearer.statusCode()).isEqualTo(200);
      assertThat(bearer.body()).isEqualTo("user=bearer stamp=saw bearer");

      HttpResponse<String> key = g.get("/peer/svc/", "X-Api-Key", "good");
      assertThat(key.statusCode()).isEqualTo(200);
      assertThat(key.body()).isEqualTo("user=key stamp=saw key");

      // bearer-auth comes first and recognises its bad token: key-auth's good key is never looked at.
      HttpResponse<String> both = g.get("/peer/svc/", "Authorization", "Bearer bad", "X-Api-Key", "good");
      assertThat(both.statusCode()).isEqualTo(401);
      assertThat(both.headers().allValues("WWW-Authenticate")).containsExactly("Bearer realm=\"gw\"");
      assertThat(both.body()).isEqualTo("bearer: no valid token");

      HttpResponse<String> badKey = g.get("/peer/open/", "X-Api-Key", "bad");
      assertThat(badKey.statusCode()).isEqualTo(401);
      assertThat(badKey.headers().allValues("WWW-Authenticate")).containsExactly("ApiKey realm=\"gw\"");
      assertThat(backendCalls).hasValue(2);
    }
  }

  @Test
  void withoutACredentialEveryChallengeComesInOne401() throws Exception {
    try (TestGateway g = gateway(ALL_THREE)) {
      HttpResponse<String> r = g.get("/peer/svc/", "Authorization", "Digest nobody-reads-this");

      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.headers().allValues("WWW-Authenticate"))
          .containsExactly("Bearer realm=\"gw\"", "ApiKey realm=\"gw\"");
      assertThat(r.body()).isEqualTo("bearer: no valid token");
      assertThat(backendCalls).hasValue(0);
    }
  }

  @Test
  void withoutACredentialTheFirstAuthenticatorToLetTheRequestThroughDecides() throws Exception {
    try (TestGateway g = gateway(ALL_THREE)) {
      // On route open, key-auth leaves requests without a key public.
      HttpResponse<String> r = g.get("/peer/open/");

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("user=anonymous stamp=saw anonymous");
      assertThat(r.headers().allValues("WWW-Authenticate")).isEmpty();
    }
  }

  @Test
  void aSingleAuthenticatorIsAnOrdinaryFilter() throws Exception {
    try (TestGateway g = gateway("plugins:\n  bearer-auth: {}\n  header-stamp: {}\n")) {
      HttpResponse<String> r = g.get("/peer/svc/");
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.headers().allValues("WWW-Authenticate")).containsExactly("Bearer realm=\"gw\"");

      assertThat(g.get("/peer/svc/", "Authorization", "Bearer good").body()).isEqualTo("user=bearer stamp=saw bearer");
    }
  }

  @Test
  void anAuthenticatorOutsideTheAuthenticatePhaseIsAConfigurationError() {
    assertThatThrownBy(() -> gateway("plugins:\n  wrong-phase: {}\n").close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("plugin 'wrong-phase' (auth.jar)")
        .hasMessageContaining("Authenticator")
        .hasMessageContaining("LIMIT")
        .hasMessageContaining("AUTHENTICATE");
  }
}
