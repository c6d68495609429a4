package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.StandardAttributes;

/**
 * What the chain saw of one exchange: the request as it was last passed on (for completion
 * reports), the principal the filters established, connector time (summed over retries) and
 * whether the connector failed. Read by the handler for metrics, the access log and completion.
 */
public final class ExchangeRecord {
  private volatile long upstreamNanos = -1;
  private volatile Principal principal;
  private volatile Request lastRequest;
  private volatile boolean clientAborted;
  private volatile boolean connectorFailed;

  /**
   * @param nanos time spent in this connector call
   * @param failed whether it threw (the upstream could not be reached or failed before its
   *     response began); the last call decides, so a retry that got an answer clears it
   */
  synchronized void connectorCalled(long nanos, boolean failed) {
    upstreamNanos = upstreamNanos < 0 ? nanos : upstreamNanos + nanos;
    connectorFailed = failed;
  }

  /** Remembers the request as it reaches the next filter or the connector, and its principal. */
  void passed(Request request) {
    lastRequest = request;
    Principal who = request.attribute(StandardAttributes.PRINCIPAL);
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

  /** @return whether the last connector call failed (a retry that got an answer clears it) */
  public boolean connectorFailed() {
    return connectorFailed;
  }

  /** @return nanoseconds spent in the connector, or -1 when it was never called */
  public long upstreamNanos() {
    return upstreamNanos;
  }

  /** @return the principal, or {@code null} when none was established before the connector */
  public Principal principal() {
    return principal;
  }

  /** @return the request as the chain last passed it on, or {@code null} when the chain never ran */
  public Request lastRequest() {
    return lastRequest;
  }
}
