package dev.portalgateway.host.proxy;

import com.sun.net.httpserver.HttpExchange;
import dev.portalgateway.api.Headers;
import dev.portalgateway.host.front.RequestFields;
import java.util.List;
import java.util.Map;

/** The header fields of an exchange of the JDK server API, as the plugin API's {@link Headers}. */
public final class ExchangeHeaders {
  private ExchangeHeaders() {}

  /**
   * @param exchange an exchange of either server provider
   * @return its request fields: as parsed, from the gateway's own server; else {@link #of(com.sun.net.httpserver.Headers)}
   */
  public static Headers of(HttpExchange exchange) {
    if (exchange instanceof RequestFields parsed) {
      return parsed.requestFields();
    }
    return of(exchange.getRequestHeaders());
  }

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
