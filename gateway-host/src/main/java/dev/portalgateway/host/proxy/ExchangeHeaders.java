package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Headers;
import java.util.List;
import java.util.Map;

/** The header fields of an exchange of the JDK server API, as the plugin API's {@link Headers}. */
public final class ExchangeHeaders {
  private ExchangeHeaders() {}

  /**
   * @param jdk the exchange's request headers
   * @return the same fields; any field HTTP forbids (which the server let through) is left out,
   *     so that no plugin and no upstream ever sees it
   */
  public static Headers of(com.sun.net.httpserver.Headers jdk) {
    Headers.Builder b = Headers.builder();
    for (Map.Entry<String, List<String>> e : jdk.entrySet()) {
      for (String v : e.getValue()) {
        try {
          b.add(e.getKey(), v);
        } catch (IllegalArgumentException invalid) {
          // left out, as documented
        }
      }
    }
    return b.build();
  }
}
