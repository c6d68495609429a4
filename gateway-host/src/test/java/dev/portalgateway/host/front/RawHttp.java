package dev.portalgateway.host.front;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reading what the front server writes on a raw socket, for tests that check its bytes. */
final class RawHttp {
  private RawHttp() {}

  /** @return the next line without its CRLF; fails if the connection ends first */
  static String line(InputStream in) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != '\n'; ) {
      assertThat(c).as("a byte before the line's end").isNotNegative();
      b.write(c);
    }
    String text = b.toString(StandardCharsets.ISO_8859_1);
    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
  }
}
