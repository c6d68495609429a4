package dev.portalgateway.host.front;

import java.time.Duration;

/**
 * One front server's limits, from the gateway's configuration: never JVM-wide properties, so two
 * gateways in one JVM (tests) keep their own.
 *
 * @param maxConnections client connections open at once; one more is answered {@code 503} and
 *     closed, and counted
 * @param idleTimeout how long a keep-alive connection may wait for its next request
 * @param headerReadTimeout how long a client may take to send a request head, from its first byte
 * @param requestReadTimeout how long a client may take to send its whole request, head and body
 * @param maxHeaderBytes the largest request head (request line and fields); larger gets {@code 431}
 */
public record FrontLimits(int maxConnections, Duration idleTimeout, Duration headerReadTimeout,
    Duration requestReadTimeout, int maxHeaderBytes) {
  public FrontLimits {
    if (maxConnections < 1 || maxHeaderBytes < 256) {
      throw new IllegalArgumentException("maxConnections >= 1 and maxHeaderBytes >= 256");
    }
  }
}
