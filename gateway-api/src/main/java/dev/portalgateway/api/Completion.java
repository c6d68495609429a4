package dev.portalgateway.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How one exchange on a route ended, reported once to every filter bound to the route through
 * {@link Filter#completed(Completion)}: after the last byte of the response went out, or when the
 * exchange was cut short.
 *
 * <p>An audit, metering or webhook plugin reads here what it would otherwise have to rebuild by
 * wrapping bodies: the status the client got, how many bytes went each way, how long it took, how
 * it ended and who the caller was.
 *
 * <pre>{@code
 * public void completed(Completion c) {
 *   if (c.outcome() != Completion.Outcome.OK) {
 *     context.event(Level.INFO, "exchange did not complete",
 *         Map.of("route", c.route(), "status", c.status(), "outcome", c.outcome().label()));
 *   }
 * }
 * }</pre>
 *
 * @param request the request as the chain last passed it on: to the connector, or to the filter
 *     that answered it. It carries the {@linkplain Request#attribute attributes} the filters
 *     attached, so a filter finds here what it attached for this exchange. Its body has been
 *     consumed; do not read it.
 * @param route the route's name, as in {@link Request#route()}
 * @param status the status the client was sent (or would have been, had it stayed)
 * @param bytesIn request body bytes read from the client
 * @param bytesOut response body bytes written to the client
 * @param duration from the first byte of the request head until the exchange ended
 * @param outcome how the exchange ended
 * @param principal the caller the filters established, or {@code null}
 */
public record Completion(Request request, String route, int status, long bytesIn, long bytesOut, Duration duration,
    Outcome outcome, Principal principal) {

  /** Checks the fields. */
  public Completion {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(route, "route");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(outcome, "outcome");
  }

  /** How an exchange ended. */
  public enum Outcome {
    /** The whole response went out: from the upstream, a cache, or a plugin that answered. */
    OK("ok"),
    /**
     * The gateway refused the request without reaching the upstream: a filter or the gateway
     * itself answered with a 4xx or 5xx status (no key, over a limit, body too large, draining).
     */
    REJECTED("rejected"),
    /**
     * The upstream could not be reached or failed before its response began (connection refused,
     * timeout, lease gone): the client got the gateway's 502, 503 or 504.
     */
    UPSTREAM_FAILED("upstream-failed"),
    /**
     * The upstream failed while its response body streamed: the client's response was cut short
     * (the connection was dropped, so the client can tell).
     */
    ABORTED("aborted"),
    /** The client hung up before the whole response reached it, or while it sent its body. */
    CLIENT_GONE("client-gone");

    private final String label;

    Outcome(String label) {
      this.label = label;
    }

    /** @return the name used in logs and metrics, such as {@code client-gone} */
    public String label() {
      return label;
    }
  }
}
