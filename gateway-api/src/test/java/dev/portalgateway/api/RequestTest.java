package dev.portalgateway.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class RequestTest {
  private static final Attribute<String> USER = Attribute.of("test.user", String.class);
  private static final Attribute<Integer> COUNT = Attribute.of("test.count", Integer.class);

  private static Request.Builder request() {
    return Request.builder().route("backend").upstreamPath("/v1/items");
  }

  private static String read(Body body) throws IOException {
    try (InputStream in = body.open()) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  @Test
  void targetIsThePathAloneWithoutAQuery() {
    assertThat(request().build().target()).isEqualTo("/v1/items");
    assertThat(request().rawQuery("").build().target()).isEqualTo("/v1/items");
    assertThat(request().rawQuery("").build().rawQuery()).isNull();
  }

  @Test
  void targetAppendsTheQuery() {
    assertThat(request().rawQuery("page=2&q=a%20b").build().target()).isEqualTo("/v1/items?page=2&q=a%20b");
  }

  @Test
  void defaultsDescribeAPlainGetToTheRoute() {
    Request r = Request.builder().route("backend").build();

    assertThat(r.method()).isEqualTo("GET");
    assertThat(r.scheme()).isEqualTo("http");
    assertThat(r.upstreamPath()).isEqualTo("/");
    assertThat(r.path()).isEqualTo("/");
    assertThat(r.baseUrl()).isEqualTo("http://localhost");
    assertThat(r.headers()).isEqualTo(Headers.empty());
    assertThat(r.body().length()).isZero();
    assertThat(r.clientAddress()).isEqualTo(InetAddress.getLoopbackAddress());
    assertThat(r.requestId()).isEmpty();
  }

  @Test
  void aRequestBuiltWithoutAPathHasTheUpstreamPathForOne() {
    // No mount point is written into the API: only the host knows where routes are mounted.
    assertThat(request().build().path()).isEqualTo("/v1/items");
    assertThat(request().path("/custom").build().path()).isEqualTo("/custom");
  }

  @Test
  void baseUrlIsTheConfiguredOneOrTheSchemeAndHost() {
    Request fromClient = request().scheme("https").host("gw.example.test:8443").path("/peer/backend/v1/items").build();
    assertThat(fromClient.baseUrl()).isEqualTo("https://gw.example.test:8443");
    assertThat(fromClient.url()).isEqualTo("https://gw.example.test:8443/peer/backend/v1/items");

    Request configured = fromClient.toBuilder().baseUrl("https://public.example.test").build();
    assertThat(configured.url()).isEqualTo("https://public.example.test/peer/backend/v1/items");
    // A later change of Host does not change a configured base URL, but does change a derived one.
    assertThat(configured.toBuilder().host("other").build().baseUrl()).isEqualTo("https://public.example.test");
    assertThat(fromClient.toBuilder().host("other").build().baseUrl()).isEqualTo("https://other");
  }

  @Test
  void routeIsRequired() {
    assertThatThrownBy(() -> Request.builder().build()).isInstanceOf(NullPointerException.class)
        .hasMessageContaining("route");
  }

  @Test
  void queryParameterDecodesNamesAndValues() {
    Request r = request().rawQuery("q=a%20b+c&api%5Fkey=k%2Fv&flag&empty=&q=second&bad=%zz").build();

    assertThat(r.queryParameter("q")).isEqualTo("a b c");
    assertThat(r.queryParameter("api_key")).isEqualTo("k/v");
    assertThat(r.queryParameter("flag")).isEmpty();
    assertThat(r.queryParameter("empty")).isEmpty();
    assertThat(r.queryParameter("bad")).isEqualTo("%zz");
    assertThat(r.queryParameter("missing")).isNull();
  }

  @Test
  void queryParameterOfARequestWithoutAQueryIsNull() {
    assertThat(request().build().queryParameter("q")).isNull();
  }

  @Test
  void withoutQueryParameterKeepsTheOtherParametersInOrder() {
    Request r = request().rawQuery("a=1&api_key=secret&b=2&api%5Fkey=again&c=3").build();

    Request stripped = r.withoutQueryParameter("api_key");

    assertThat(stripped.rawQuery()).isEqualTo("a=1&b=2&c=3");
    assertThat(stripped.target()).isEqualTo("/v1/items?a=1&b=2&c=3");
    assertThat(r.rawQuery()).isEqualTo("a=1&api_key=secret&b=2&api%5Fkey=again&c=3");
  }

  @Test
  void withoutTheOnlyQueryParameterLeavesNoQuery() {
    Request stripped = request().rawQuery("api_key=secret").build().withoutQueryParameter("api_key");

    assertThat(stripped.rawQuery()).isNull();
    assertThat(stripped.target()).isEqualTo("/v1/items");
  }

  @Test
  void withoutQueryParameterOfARequestWithoutAQueryIsTheSameRequest() {
    Request r = request().build();
    assertThat(r.withoutQueryParameter("x")).isSameAs(r);
  }

  @Test
  void withHeaderReplacesAndWithoutHeaderRemoves() {
    Request r = request().headers(Headers.of("X-A", "1", "x-a", "2", "Accept", "*/*")).build();

    Request replaced = r.withHeader("X-A", "3");
    Request removed = r.withoutHeader("x-a");

    assertThat(replaced.headers().all("x-a")).containsExactly("3");
    assertThat(replaced.headers().first("Accept")).isEqualTo("*/*");
    assertThat(removed.headers().contains("X-A")).isFalse();
    assertThat(removed.headers().first("Accept")).isEqualTo("*/*");
    assertThat(r.headers().all("X-A")).containsExactly("1", "2");
    assertThat(r.withoutHeader("Missing")).isSameAs(r);
  }

  @Test
  void withChangesKeepTheRestOfTheRequest() throws Exception {
    InetAddress client = InetAddress.getByAddress(new byte[] {10, 1, 2, 3});
    Request r = request()
        .method("POST").scheme("https").host("gw.example").rawQuery("a=1")
        .clientAddress(client).requestId("req-1").body(Body.of("payload"))
        .build()
        .withAttribute(USER, "alice");

    Request changed = r.withHeader("X-New", "1");

    assertThat(changed.method()).isEqualTo("POST");
    assertThat(changed.scheme()).isEqualTo("https");
    assertThat(changed.host()).isEqualTo("gw.example");
    assertThat(changed.route()).isEqualTo("backend");
    assertThat(changed.upstreamPath()).isEqualTo("/v1/items");
    assertThat(changed.rawQuery()).isEqualTo("a=1");
    assertThat(changed.clientAddress()).isEqualTo(client);
    assertThat(changed.requestId()).isEqualTo("req-1");
    assertThat(read(changed.body())).isEqualTo("payload");
    assertThat(changed.attribute(USER)).isEqualTo("alice");
  }

  @Test
  void attributesAreTypedAndCanBeRemoved() {
    Request r = request().build();
    assertThat(r.attribute(USER)).isNull();

    Request withBoth = r.withAttribute(USER, "alice").withAttribute(COUNT, 3);
    assertThat(withBoth.attribute(USER)).isEqualTo("alice");
    Integer count = withBoth.attribute(COUNT);
    assertThat(count).isEqualTo(3);

    Request removed = withBoth.withAttribute(USER, null);
    assertThat(removed.attribute(USER)).isNull();
    assertThat(removed.attribute(COUNT)).isEqualTo(3);
    // Earlier requests keep their attributes.
    assertThat(withBoth.attribute(USER)).isEqualTo("alice");
    assertThat(r.attribute(COUNT)).isNull();
  }

  @Test
  void attributeKeysCompareByIdentity() {
    Attribute<String> sameName = Attribute.of("test.user", String.class);
    Request r = request().build().withAttribute(USER, "alice");

    assertThat(r.attribute(sameName)).isNull();
  }

  @Test
  void toBuilderCarriesAttributes() {
    Request r = request().build().withAttribute(USER, "alice");

    Request rebuilt = r.toBuilder().method("PUT").attribute(COUNT, 1).build();

    assertThat(rebuilt.attribute(USER)).isEqualTo("alice");
    assertThat(rebuilt.attribute(COUNT)).isEqualTo(1);
    assertThat(rebuilt.method()).isEqualTo("PUT");
    assertThat(r.attribute(COUNT)).isNull();
  }

  @Test
  void withReplayableBodyLetsTheBodyBeReadTwice() throws IOException {
    Request r = request().body(Body.ofStream(new ByteArrayInputStream("payload".getBytes(UTF_8)), -1)).build();

    Request replayable = r.withReplayableBody(1024);

    assertThat(replayable.body().isReplayable()).isTrue();
    assertThat(read(replayable.body())).isEqualTo("payload");
    assertThat(read(replayable.body())).isEqualTo("payload");
    assertThat(replayable.body().length()).isEqualTo(7);
  }

  @Test
  void withReplayableBodyOfAnAlreadyReplayableBodyIsTheSameRequest() throws IOException {
    Request r = request().body(Body.of("x")).build();
    assertThat(r.withReplayableBody(1024)).isSameAs(r);
  }

  @Test
  void withReplayableBodyRefusesATooLargeBody() {
    Request r = request().body(Body.ofStream(new ByteArrayInputStream(new byte[100]), -1)).build();

    assertThatThrownBy(() -> r.withReplayableBody(99)).isInstanceOf(BodyTooLargeException.class);
  }

  @Test
  void toStringLeavesOutHeadersAndQuery() {
    Request r = request().rawQuery("api_key=secret").headers(Headers.of("Authorization", "Bearer secret"))
        .requestId("id-1").build();

    assertThat(r.toString()).contains("GET", "/v1/items", "id-1").doesNotContain("secret");
  }
}
