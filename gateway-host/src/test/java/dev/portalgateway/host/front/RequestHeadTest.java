package dev.portalgateway.host.front;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.host.http1.ConnectionInput;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link RequestHead} on its own, for what the fuzz target found; StrictParsingTest covers the rest through a server. */
class RequestHeadTest {

  private static RequestHead read(String head, int maxBytes) throws IOException {
    ConnectionInput in = new ConnectionInput(new ByteArrayInputStream(head.getBytes(StandardCharsets.ISO_8859_1)), 8192);
    return RequestHead.read(in, maxBytes, in.read());
  }

  /** Found by RequestHeadFuzzTest (input oversized-head-431): a limit below 1 KiB did not hold. */
  @Test
  void aHeadLimitBelowOneKibibyteHolds() throws IOException {
    String small = "GET / HTTP/1.1\r\nHost: a\r\nX: " + "x".repeat(200) + "\r\n\r\n";
    String large = "GET / HTTP/1.1\r\nHost: a\r\nX: " + "x".repeat(400) + "\r\n\r\n";
    assertThat(read(small, 256).method()).isEqualTo("GET");
    assertThatThrownBy(() -> read(large, 256))
        .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.status()).isEqualTo(431));
    assertThatThrownBy(() -> read(large, 300))
        .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.status()).isEqualTo(431));
    assertThat(read(large, 1024).method()).isEqualTo("GET");
  }
}
