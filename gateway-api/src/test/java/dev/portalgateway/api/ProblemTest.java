package dev.portalgateway.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProblemTest {

  private static String read(Body body) throws IOException {
    try (InputStream in = body.open()) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  @Test
  void toJsonWritesEveryFieldWithTheTypeUri() {
    Problem p = Problem.of(504, "upstream-timeout", "Gateway Timeout", "The upstream did not answer.", "Try later.");

    assertThat(p.typeUri()).isEqualTo("urn:portal-gateway:problem:upstream-timeout");
    assertThat(p.toJson()).isEqualTo(
        "{\"type\":\"urn:portal-gateway:problem:upstream-timeout\",\"title\":\"Gateway Timeout\","
            + "\"status\":504,\"detail\":\"The upstream did not answer.\",\"hint\":\"Try later.\"}");
  }

  @Test
  void toJsonLeavesOutAMissingHint() {
    Problem p = Problem.of(404, "no-route", "Not Found", "No such route.", null);

    assertThat(p.toJson()).isEqualTo(
        "{\"type\":\"urn:portal-gateway:problem:no-route\",\"title\":\"Not Found\","
            + "\"status\":404,\"detail\":\"No such route.\"}");
  }

  @Test
  void toJsonEscapesQuotesBackslashesAndLineBreaks() {
    Problem p = Problem.of(400, "t", "say \"hi\"", "a\\b\nc\rd\te", "x");

    assertThat(p.toJson()).isEqualTo(
        "{\"type\":\"urn:portal-gateway:problem:t\",\"title\":\"say \\\"hi\\\"\","
            + "\"status\":400,\"detail\":\"a\\\\b\\nc\\rd\\te\",\"hint\":\"x\"}");
  }

  @Test
  void toJsonEscapesOtherControlCharactersAsUnicodeEscapes() {
    Problem p = Problem.of(400, "t", "\u0000\u0001\u001f", "bell\u0007", "\u007f ok é");

    assertThat(p.toJson()).isEqualTo(
        "{\"type\":\"urn:portal-gateway:problem:t\",\"title\":\"\\u0000\\u0001\\u001f\","
            + "\"status\":400,\"detail\":\"bell\\u0007\",\"hint\":\"\u007f ok é\"}");
    // No raw control character survives.
    assertThat(p.toJson().chars()).noneMatch(c -> c < 0x20);
  }

  @Test
  void toResponseCarriesTheProblemAsProblemJsonThatIsNotCached() throws IOException {
    Problem p = Problem.of(429, "rate-limited", "Too Many Requests", "Slow down.", null);

    Response r = p.toResponse();

    assertThat(r.status()).isEqualTo(429);
    assertThat(r.headers().all("Content-Type")).containsExactly("application/problem+json");
    assertThat(r.headers().all("Cache-Control")).containsExactly("no-store");
    assertThat(read(r.body())).isEqualTo(p.toJson());
    assertThat(r.body().length()).isEqualTo(p.toJson().getBytes(UTF_8).length);
  }

  @Test
  void toResponseKeepsExtraHeadersButOverridesContentTypeAndCaching() {
    Problem p = Problem.of(401, "unauthenticated", "Unauthorized", "No key.", null);

    Response r = p.toResponse(Headers.of(
        "WWW-Authenticate", "Bearer", "Content-Type", "text/html", "cache-control", "max-age=60"));

    assertThat(r.headers().first("WWW-Authenticate")).isEqualTo("Bearer");
    assertThat(r.headers().all("content-type")).containsExactly(Problem.MEDIA_TYPE);
    assertThat(r.headers().all("Cache-Control")).containsExactly("no-store");
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 404, 499, 500, 599})
  void acceptsClientAndServerErrorStatuses(int status) {
    assertThat(Problem.of(status, "t", "T", "d", null).status()).isEqualTo(status);
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 0, 200, 204, 302, 399, 600, 999})
  void rejectsStatusesOutsideFourAndFiveHundreds(int status) {
    assertThatThrownBy(() -> Problem.of(status, "t", "T", "d", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Integer.toString(status));
  }

  @Test
  void requiresTypeTitleAndDetail() {
    assertThatThrownBy(() -> Problem.of(400, null, "T", "d", null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Problem.of(400, "t", null, "d", null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Problem.of(400, "t", "T", null, null)).isInstanceOf(NullPointerException.class);
  }
}
