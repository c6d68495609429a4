package dev.portalgateway.host.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.api.Headers;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HopByHopTest {

  @ParameterizedTest(name = "strips {0}")
  @ValueSource(strings = {
      "Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Connection",
      "Proxy-Authorization", "Proxy-Authenticate", "connection", "KEEP-ALIVE", "te", "transfer-encoding",
  })
  void stripsTheFixedHopByHopFields(String name) {
    Headers in = Headers.of("Accept", "*/*", name, "x", "X-After", "1");

    Headers out = HopByHop.strip(in);

    assertThat(out.contains(name)).isFalse();
    assertThat(out).isEqualTo(Headers.of("Accept", "*/*", "X-After", "1"));
    assertThat(HopByHop.isHopByHop(name)).isTrue();
  }

  @Test
  void stripsEveryFieldNamedInConnection() {
    Headers in = Headers.of(
        "Host", "example",
        "Connection", "keep-alive, X-Secret-Hop,x-other",
        "X-Secret-Hop", "1",
        "X-Other", "2",
        "X-Kept", "3",
        "Keep-Alive", "timeout=5");

    Headers out = HopByHop.strip(in);

    assertThat(out).isEqualTo(Headers.of("Host", "example", "X-Kept", "3"));
  }

  @Test
  void fieldsNamedInConnectionMatchWhateverTheCaseAndSpacing() {
    Headers in = Headers.of(
        "Connection", "  X-FOO  ,\tx-bar",
        "x-foo", "1",
        "X-Bar", "2",
        "X-Baz", "3");

    assertThat(HopByHop.strip(in)).isEqualTo(Headers.of("X-Baz", "3"));
  }

  @Test
  void everyConnectionFieldCounts() {
    Headers in = Headers.of(
        "Connection", "x-one",
        "connection", "X-Two",
        "X-One", "1",
        "X-Two", "2",
        "X-Three", "3");

    assertThat(HopByHop.strip(in)).isEqualTo(Headers.of("X-Three", "3"));
  }

  @Test
  void keepsEndToEndFieldsInOrderWithRepeats() {
    Headers in = Headers.of(
        "Accept", "text/event-stream",
        "Transfer-Encoding", "chunked",
        "Authorization", "Bearer t",
        "Cache-Control", "no-cache",
        "Content-Type", "application/json",
        "Set-Cookie", "a=1",
        "Set-Cookie", "b=2",
        "Mcp-Session-Id", "s1",
        "Content-Length", "10");

    Headers out = HopByHop.strip(in);

    assertThat(out).isEqualTo(Headers.of(
        "Accept", "text/event-stream",
        "Authorization", "Bearer t",
        "Cache-Control", "no-cache",
        "Content-Type", "application/json",
        "Set-Cookie", "a=1",
        "Set-Cookie", "b=2",
        "Mcp-Session-Id", "s1",
        "Content-Length", "10"));
  }

  @Test
  void returnsTheSameInstanceWhenThereIsNothingToStrip() {
    Headers in = Headers.of("Accept", "*/*", "Authorization", "Bearer t", "Upgrade-Insecure-Requests", "1");

    assertThat(HopByHop.strip(in)).isSameAs(in);
    assertThat(HopByHop.strip(Headers.empty())).isSameAs(Headers.empty());
  }

  @Test
  void endToEndFieldsAreNotHopByHop() {
    assertThat(HopByHop.isHopByHop("Authorization")).isFalse();
    assertThat(HopByHop.isHopByHop("Content-Length")).isFalse();
    assertThat(HopByHop.isHopByHop("Upgrade-Insecure-Requests")).isFalse();
    assertThat(HopByHop.isHopByHop("TE2")).isFalse();
  }

  @Test
  void aFieldNamedInConnectionIsRemovedEvenWhenItComesFirst() {
    Headers in = Headers.of("X-Secret", "1", "Accept", "*/*", "Connection", "X-Secret");
    assertThat(HopByHop.strip(in)).isEqualTo(Headers.of("Accept", "*/*"));
  }
}
