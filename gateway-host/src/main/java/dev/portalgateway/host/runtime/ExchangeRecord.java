package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Principal;

/**
 * What the end of the chain saw of one exchange: connector time (summed over retries) and the
 * principal the filters established. Read by the handler for metrics and the access log.
 */
public final class ExchangeRecord {
  private volatile long upstreamNanos = -1;
  private volatile Principal principal;
  private volatile boolean clientAborted;

  synchronized void connectorCalled(long nanos) {
    upstreamNanos = upstreamNanos < 0 ? nanos : upstreamNanos + nanos;
  }

  /** Remembers the principal a filter established, as the request passes the next filter. */
  void sawPrincipal(Principal who) {
    if (who != null) {
      principal = who;
    }
  }

  /** @param aborted whether the client gave up while sending its body */
  public void clientAborted(boolean aborted) {
    clientAborted = aborted;
  }

  /** @return whether the client gave up while sending its body */
  public boolean clientAborted() {
    return clientAborted;
  }

  /** @return nanoseconds spent in the connector, or -1 when it was never called */
  public long upstreamNanos() {
    return upstreamNanos;
  }

  /** @return the principal, or {@code null} when none was established before the connector */
  public Principal principal() {
    return principal;
  }
}
