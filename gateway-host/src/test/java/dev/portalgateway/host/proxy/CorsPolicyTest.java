package dev.portalgateway.host.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.config.CorsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CorsPolicyTest {
  private static final String APP = "https://app.example";
  private static final String EVIL = "https://evil.example";

  private static CorsPolicy defaults() {
    return CorsPolicy.of(new CorsConfig(null, null, null, null, null, null, null));
  }

  private static CorsPolicy onlyApp(boolean credentials) {
    return CorsPolicy.of(new CorsConfig(true, List.of(APP), null, null, null, credentials, Duration.ofSeconds(90)));
  }

  private static Headers preflightFrom(String origin) {
    return Headers.of(
        "Origin", origin,
        "Access-Control-Request-Method", "POST",
        "Access-Control-Request-Headers", "authorization, mcp-protocol-version, content-type");
  }

  private static String read(Response r) throws IOException {
    try (InputStream in = r.body().open()) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  // ---- preflight detection ----

  @Test
  void aPreflightIsOptionsWithOriginAndRequestMethod() {
    CorsPolicy policy = defaults();

    assertThat(policy.isPreflight("OPTIONS", preflightFrom(APP))).isTrue();
    assertThat(policy.isPreflight("OPTIONS", Headers.of("Origin", APP, "Access-Control-Request-Method", "GET")))
        .isTrue();
  }

  @Test
  void anythingElseIsNotAPreflight() {
    CorsPolicy policy = defaults();

    assertThat(policy.isPreflight("POST", preflightFrom(APP))).isFalse();
    assertThat(policy.isPreflight("GET", preflightFrom(APP))).isFalse();
    assertThat(policy.isPreflight("OPTIONS", Headers.of("Origin", APP))).isFalse();
    assertThat(policy.isPreflight("OPTIONS", Headers.of("Access-Control-Request-Method", "POST"))).isFalse();
    assertThat(policy.isPreflight("OPTIONS", Headers.empty())).isFalse();
  }

  // ---- preflight answer ----

  @Test
  void theDefaultPolicyAnswersAPreflightForMcpClients() {
    Response r = defaults().preflight(preflightFrom(APP));
    Headers h = r.headers();

    assertThat(r.status()).isEqualTo(204);
    assertThat(h.first("Access-Control-Allow-Origin")).isEqualTo("*");
    assertThat(h.first("Access-Control-Allow-Methods")).contains("GET", "POST", "DELETE", "OPTIONS");
    assertThat(h.first("Access-Control-Allow-Headers"))
        .contains("Authorization", "Mcp-Protocol-Version", "Mcp-Session-Id", "Content-Type", "Last-Event-ID");
    assertThat(h.first("Access-Control-Max-Age")).isEqualTo("600");
    assertThat(h.first("Vary")).contains("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers");
    assertThat(h.contains("Access-Control-Allow-Credentials")).isFalse();
    assertThat(r.body().length()).isZero();
  }

  @Test
  void aListedOriginGetsItsOwnOriginBack() {
    Response r = onlyApp(false).preflight(preflightFrom(APP));

    assertThat(r.status()).isEqualTo(204);
    assertThat(r.headers().first("Access-Control-Allow-Origin")).isEqualTo(APP);
    assertThat(r.headers().first("Access-Control-Max-Age")).isEqualTo("90");
  }

  @Test
  void aDisallowedOriginGetsA403Problem() throws IOException {
    Response r = onlyApp(false).preflight(preflightFrom(EVIL));

    assertThat(r.status()).isEqualTo(403);
    assertThat(r.headers().first("Content-Type")).isEqualTo("application/problem+json");
    assertThat(r.headers().first("Vary")).isEqualTo("Origin");
    assertThat(r.headers().contains("Access-Control-Allow-Origin")).isFalse();
    assertThat(read(r)).contains("urn:portal-gateway:problem:cors-origin-denied", EVIL, "cors.allowed_origins");
  }

  @Test
  void originsCompareExactly() {
    assertThat(onlyApp(false).preflight(preflightFrom("https://app.example:443")).status()).isEqualTo(403);
    assertThat(onlyApp(false).preflight(preflightFrom("http://app.example")).status()).isEqualTo(403);
    assertThat(onlyApp(false).preflight(preflightFrom("https://app.example.evil.example")).status())
        .isEqualTo(403);
  }

  @Test
  void aWildcardAllowedHeaderEchoesTheRequestedHeaders() {
    CorsPolicy policy = CorsPolicy.of(new CorsConfig(true, null, null, List.of("*"), null, null, null));

    Response r = policy.preflight(preflightFrom(APP));

    assertThat(r.headers().first("Access-Control-Allow-Headers"))
        .isEqualTo("authorization, mcp-protocol-version, content-type");
  }

  @Test
  void configuredMethodsAndHeadersAreListed() {
    CorsPolicy policy = CorsPolicy.of(new CorsConfig(
        true, null, List.of("GET", "POST"), List.of("Authorization", "X-Custom"), null, null, Duration.ZERO));

    Headers h = policy.preflight(preflightFrom(APP)).headers();

    assertThat(h.first("Access-Control-Allow-Methods")).isEqualTo("GET, POST");
    assertThat(h.first("Access-Control-Allow-Headers")).isEqualTo("Authorization, X-Custom");
    assertThat(h.first("Access-Control-Max-Age")).isEqualTo("0");
  }

  @Test
  void credentialsModeEchoesTheOriginInAPreflight() {
    Headers h = onlyApp(true).preflight(preflightFrom(APP)).headers();

    assertThat(h.first("Access-Control-Allow-Origin")).isEqualTo(APP);
    assertThat(h.first("Access-Control-Allow-Credentials")).isEqualTo("true");
  }

  @Test
  void credentialsModeNeverAnswersWithAStar() {
    // Validation refuses "*" with credentials; should such a policy still be built, it must not send "*".
    CorsPolicy policy = CorsPolicy.of(new CorsConfig(true, List.of("*"), null, null, null, true, null));

    assertThat(policy.preflight(preflightFrom(APP)).headers().first("Access-Control-Allow-Origin")).isEqualTo(APP);
    assertThat(policy.decorate(Headers.of("Origin", APP), Headers.empty()).first("Access-Control-Allow-Origin"))
        .isEqualTo(APP);
  }

  // ---- decorating responses ----

  @Test
  void decorateAddsAllowOriginAndExposesMcpSessionIdForAnAllowedOrigin() {
    Headers out = onlyApp(false).decorate(
        Headers.of("Origin", APP), Headers.of("Content-Type", "application/json", "Mcp-Session-Id", "s1"));

    assertThat(out.first("Access-Control-Allow-Origin")).isEqualTo(APP);
    assertThat(out.first("Access-Control-Expose-Headers")).contains("Mcp-Session-Id", "WWW-Authenticate");
    assertThat(out.first("Vary")).isEqualTo("Origin");
    assertThat(out.first("Content-Type")).isEqualTo("application/json");
    assertThat(out.first("Mcp-Session-Id")).isEqualTo("s1");
    assertThat(out.contains("Access-Control-Allow-Credentials")).isFalse();
  }

  @Test
  void decorateWithTheDefaultPolicyAllowsAnyOriginWithAStar() {
    Headers out = defaults().decorate(Headers.of("Origin", EVIL), Headers.empty());

    assertThat(out.first("Access-Control-Allow-Origin")).isEqualTo("*");
    assertThat(out.first("Access-Control-Expose-Headers")).contains("Mcp-Session-Id");
  }

  @Test
  void decorateAddsOnlyVaryForADisallowedOrigin() {
    Headers response = Headers.of("Content-Type", "text/plain");

    Headers out = onlyApp(false).decorate(Headers.of("Origin", EVIL), response);

    assertThat(out).isEqualTo(Headers.of("Content-Type", "text/plain", "Vary", "Origin"));
  }

  @Test
  void decorateAddsOnlyVaryWithoutAnOrigin() {
    Headers out = defaults().decorate(Headers.empty(), Headers.of("Content-Type", "text/plain"));

    assertThat(out).isEqualTo(Headers.of("Content-Type", "text/plain", "Vary", "Origin"));
  }

  @Test
  void decorateReplacesCorsFieldsTheUpstreamSent() {
    Headers out = onlyApp(false).decorate(Headers.of("Origin", APP),
        Headers.of("Access-Control-Allow-Origin", "*", "Access-Control-Expose-Headers", "X-Leak"));

    assertThat(out.all("Access-Control-Allow-Origin")).containsExactly(APP);
    assertThat(out.all("Access-Control-Expose-Headers")).hasSize(1);
    assertThat(out.first("Access-Control-Expose-Headers")).doesNotContain("X-Leak").contains("Mcp-Session-Id");
  }

  @Test
  void credentialsModeDecoratesWithTheOriginAndCredentials() {
    Headers out = onlyApp(true).decorate(Headers.of("Origin", APP), Headers.empty());

    assertThat(out.first("Access-Control-Allow-Origin")).isEqualTo(APP);
    assertThat(out.first("Access-Control-Allow-Credentials")).isEqualTo("true");
  }

  @Test
  void credentialsAreNotOfferedToADisallowedOrigin() {
    Headers out = onlyApp(true).decorate(Headers.of("Origin", EVIL), Headers.empty());

    assertThat(out.contains("Access-Control-Allow-Credentials")).isFalse();
    assertThat(out.contains("Access-Control-Allow-Origin")).isFalse();
  }

  @Test
  void anEmptyExposeListSendsNoExposeHeader() {
    CorsPolicy policy = CorsPolicy.of(new CorsConfig(true, null, null, null, List.of(), null, null));

    assertThat(policy.decorate(Headers.of("Origin", APP), Headers.empty()).contains("Access-Control-Expose-Headers"))
        .isFalse();
  }

  // ---- disabled ----

  @Test
  void aDisabledPolicyChangesNothing() {
    CorsPolicy policy = CorsPolicy.of(new CorsConfig(false, null, null, null, null, null, null));
    Headers response = Headers.of("Content-Type", "text/plain");

    assertThat(policy).isSameAs(CorsPolicy.DISABLED);
    assertThat(policy.isPreflight("OPTIONS", preflightFrom(APP))).isFalse();
    assertThat(policy.decorate(Headers.of("Origin", APP), response)).isSameAs(response);
  }
}
