package dev.portalgateway.plugins.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpCachePolicyTest {
  private final HttpCachePolicy policy = new HttpCachePolicy(Duration.ofHours(1));

  private static Response response(int status, String... headers) {
    return Response.of(status, Headers.of(headers), Body.empty());
  }

  @Test
  void freshnessComesFromSharedMaxAgeThenMaxAgeThenExpires() {
    assertThat(policy.freshness(response(200, "Cache-Control", "max-age=60, s-maxage=30"))).hasSeconds(30);
    assertThat(policy.freshness(response(200, "Cache-Control", "public, max-age=60"))).hasSeconds(60);
    assertThat(policy.freshness(response(200, "Cache-Control", "max-age=60", "Age", "50"))).hasSeconds(10);
    assertThat(policy.freshness(response(200, "Date", "Thu, 26 Nov 2026 10:00:00 GMT",
        "Expires", "Thu, 26 Nov 2026 10:02:00 GMT"))).hasSeconds(120);
    assertThat(policy.freshness(response(200, "Cache-Control", "max-age=86400"))).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void whatMayNotBeStoredIsNot() {
    assertThat(policy.freshness(response(200))).as("no explicit freshness").isNull();
    assertThat(policy.freshness(response(200, "Cache-Control", "no-store, max-age=60"))).isNull();
    assertThat(policy.freshness(response(200, "Cache-Control", "private, max-age=60"))).isNull();
    assertThat(policy.freshness(response(200, "Cache-Control", "no-cache, max-age=60"))).isNull();
    assertThat(policy.freshness(response(200, "Cache-Control", "max-age=60", "Set-Cookie", "a=b"))).isNull();
    assertThat(policy.freshness(response(200, "Cache-Control", "max-age=60", "Vary", "*"))).isNull();
    assertThat(policy.freshness(response(500, "Cache-Control", "max-age=60"))).isNull();
    assertThat(policy.freshness(response(200, "Cache-Control", "max-age=60", "Age", "60"))).isNull();
    assertThat(policy.freshness(response(200, "Expires", "0"))).isNull();
  }

  @Test
  void requestsWithCredentialsRangesOrNoStoreBypass() {
    Request.Builder get = Request.builder().method("GET").route("r");
    assertThat(HttpCachePolicy.bypassReason(get.build())).isNull();
    assertThat(HttpCachePolicy.bypassReason(get.headers(Headers.of("Authorization", "Basic x")).build())).isEqualTo("credentials");
    assertThat(HttpCachePolicy.bypassReason(get.headers(Headers.of("Range", "bytes=0-1")).build())).isEqualTo("range");
    assertThat(HttpCachePolicy.bypassReason(get.headers(Headers.of("Cache-Control", "no-store")).build())).isEqualTo("no-store");
    assertThat(HttpCachePolicy.bypassReason(Request.builder().method("POST").route("r").build())).isEqualTo("method");
    assertThat(HttpCachePolicy.mustFetch(get.headers(Headers.of("Cache-Control", "no-cache")).build())).isTrue();
  }

  @Test
  void aMatchingValidatorGets304AndVaryChoosesTheAnswer() throws Exception {
    ResponseCache.HttpEntry entry = new ResponseCache.HttpEntry(200,
        Headers.of("ETag", "\"v1\"", "Cache-Control", "max-age=60", "Content-Type", "text/plain"), "hello".getBytes(),
        1_000, 0, Duration.ofMinutes(1), Map.of("accept-language", "en"));
    Request en = Request.builder().method("GET").route("r").headers(Headers.of("Accept-Language", "en")).build();
    Request de = Request.builder().method("GET").route("r").headers(Headers.of("Accept-Language", "de")).build();
    assertThat(HttpCachePolicy.fits(entry, en)).isTrue();
    assertThat(HttpCachePolicy.fits(entry, de)).isFalse();

    Response full = HttpCachePolicy.answer(entry, en, 6_000);
    assertThat(full.status()).isEqualTo(200);
    assertThat(full.headers().first("Age")).isEqualTo("5");
    assertThat(new String(full.body().readAll(100))).isEqualTo("hello");

    Request conditional = Request.builder().method("GET").route("r")
        .headers(Headers.of("Accept-Language", "en", "If-None-Match", "W/\"v0\", W/\"v1\"")).build();
    Response notModified = HttpCachePolicy.answer(entry, conditional, 6_000);
    assertThat(notModified.status()).isEqualTo(304);
    assertThat(notModified.headers().first("ETag")).isEqualTo("\"v1\"");
    assertThat(notModified.body().readAll(100)).isEmpty();
  }
}
