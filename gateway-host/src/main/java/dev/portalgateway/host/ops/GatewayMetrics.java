package dev.portalgateway.host.ops;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import io.prometheus.client.hotspot.DefaultExports;
import java.util.List;

/**
 * The gateway's own metrics, all named {@code portal_gateway_*}, in one registry per gateway
 * instance (tests run several gateways in one JVM).
 *
 * <p>Labels stay low-cardinality: the route is a configured upstream or lease name (anything else
 * is {@code unknown}), at most {@link #MAX_ROUTE_LABELS} of them at a time (more are
 * {@code other}; one unused for {@link #ROUTE_LABEL_IDLE} has its series removed), the method is
 * one of the standard ones (else {@code OTHER}), and the status is a class ({@code 2xx}).
 */
public final class GatewayMetrics {
  /** Buckets from 1 ms to 5 min: API calls, model calls and long streams all land somewhere useful. */
  private static final double[] DURATION_BUCKETS = {
      .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  /** The gateway's own overhead should sit in microseconds to a few milliseconds. */
  private static final double[] OVERHEAD_BUCKETS = {
      .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1};

  /** Route and lease names shown at a time; more are {@code other}. */
  public static final int MAX_ROUTE_LABELS = 100;
  /** A route or lease unused this long has its series removed and frees its slot. */
  public static final java.time.Duration ROUTE_LABEL_IDLE = java.time.Duration.ofHours(1);

  private final BoundedLabels routeLabels = new BoundedLabels(MAX_ROUTE_LABELS);
  private final CollectorRegistry registry;
  private final Counter requests;
  private final Counter outcomes;
  private final java.util.Map<String, Counter.Child> outcomeChildren = new java.util.concurrent.ConcurrentHashMap<>();
  private final Histogram requestDuration;
  private final Histogram upstreamDuration;
  private final Histogram overhead;
  private final Gauge inFlight;
  private final Gauge clientConnections;
  private final Gauge clientConnectionsRefused;
  private final Gauge malformedRequests;
  private final Counter configReloads;
  private final Gauge relayConnected;
  private final Counter relayHandshakes;
  private final Histogram relayHandshakeDuration;
  private final Gauge relayPooledConnections;
  private final Counter relayBytes;

  public GatewayMetrics(boolean jvmMetrics) {
    registry = new CollectorRegistry(true);
    requests = Counter.build("portal_gateway_requests_total", "Requests answered, by route, method and status class.")
        .labelNames("route", "method", "status_class").register(registry);
    outcomes = Counter.build("portal_gateway_request_outcomes_total",
            "Requests by how they ended: ok, rejected, upstream-failed, aborted (cut short by the upstream), client-gone.")
        .labelNames("outcome").register(registry);
    requestDuration = Histogram.build("portal_gateway_request_duration_seconds",
            "Time from the request's arrival until its response body was fully sent.")
        .labelNames("route").buckets(DURATION_BUCKETS).register(registry);
    upstreamDuration = Histogram.build("portal_gateway_upstream_duration_seconds",
            "Time the connector took to get the upstream's response head (time to first byte).")
        .labelNames("route").buckets(DURATION_BUCKETS).register(registry);
    overhead = Histogram.build("portal_gateway_overhead_seconds",
            "The gateway's own time per request: time to send the response head minus upstream time.")
        .labelNames("route").buckets(OVERHEAD_BUCKETS).register(registry);
    inFlight = Gauge.build("portal_gateway_requests_in_flight", "Requests being handled now.").register(registry);
    clientConnections = Gauge.build("portal_gateway_client_connections",
        "Client connections open on the proxy listener (http_provider portal).").register(registry);
    clientConnectionsRefused = Gauge.build("portal_gateway_client_connections_refused_total",
        "Client connections answered 503 and closed because server.max_connections were open.").register(registry);
    malformedRequests = Gauge.build("portal_gateway_malformed_requests_total",
        "Requests refused as malformed (400, 431, 505) by the front server before any plugin saw them.").register(registry);
    configReloads = Counter.build("portal_gateway_config_reloads_total", "Configuration reloads, by outcome.")
        .labelNames("outcome").register(registry);
    // Exported at 0 from the start: an alert on increase(...{outcome="rejected"}) needs a sample
    // from before the first rejection, which is otherwise the series' first sample.
    for (String outcome : List.of("applied", "rejected", "unchanged")) {
      configReloads.labels(outcome);
    }
    relayConnected = Gauge.build("portal_gateway_relay_connected",
        "1 while the gateway has a session with a Portal relay, else 0.").register(registry);
    relayHandshakes = Counter.build("portal_gateway_relay_handshakes_total",
            "End-to-end handshakes with leases, by lease and outcome (ok, refused, failed).")
        .labelNames("lease", "outcome").register(registry);
    relayHandshakeDuration = Histogram.build("portal_gateway_relay_handshake_duration_seconds",
            "Time to open a connection to a lease: relay request, lease answer and E2EE handshake.")
        .labelNames("lease").buckets(DURATION_BUCKETS).register(registry);
    relayPooledConnections = Gauge.build("portal_gateway_relay_pooled_connections",
            "Idle end-to-end connections kept per lease, ready for the next request.")
        .labelNames("lease").register(registry);
    relayBytes = Counter.build("portal_gateway_relay_bytes_total",
            "Application bytes through end-to-end connections, by lease and direction (in: from the lease).")
        .labelNames("lease", "direction").register(registry);
    if (jvmMetrics) {
      DefaultExports.register(registry);
    }
  }

  /**
   * @param name a configured upstream or a lease name, for any route or lease label
   * @return {@code name} while it holds one of the {@link #MAX_ROUTE_LABELS} slots, else {@code other}
   */
  public String routeLabel(String name) {
    return routeLabels.label(name);
  }

  /**
   * Removes the series of routes and leases unused for {@link #ROUTE_LABEL_IDLE}; the gateway's
   * timer calls it.
   *
   * @param inUse labels still held by something that counts into them (a lease's connection pool)
   */
  public void forgetIdleRoutes(java.util.function.Predicate<String> inUse) {
    routeLabels.forgetIdle(ROUTE_LABEL_IDLE.toNanos(), inUse, this::removeRoute);
  }

  private void removeRoute(String route) {
    for (String method : List.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER")) {
      for (String status : List.of("1xx", "2xx", "3xx", "4xx", "5xx")) {
        requests.remove(route, method, status);
      }
    }
    requestDuration.remove(route);
    upstreamDuration.remove(route);
    overhead.remove(route);
    for (String outcome : List.of("ok", "refused", "failed")) {
      relayHandshakes.remove(route, outcome);
    }
    relayHandshakeDuration.remove(route);
    relayPooledConnections.remove(route);
    relayBytes.remove(route, "in");
    relayBytes.remove(route, "out");
  }

  /** @return the registry that {@code /metrics} exports and plugins register into */
  public CollectorRegistry registry() {
    return registry;
  }

  public void requestStarted() {
    inFlight.inc();
  }

  /**
   * @param route the route label
   * @param method the request method
   * @param status the response status
   * @param totalNanos arrival to last byte
   * @param upstreamNanos time in the connector until the response head, or -1 when none was called
   * @param headNanos arrival until the response head was sent
   */
  public void requestFinished(String route, String method, int status, long totalNanos, long upstreamNanos, long headNanos) {
    inFlight.dec();
    requests.labels(route, methodLabel(method), statusClass(status)).inc();
    requestDuration.labels(route).observe(totalNanos / 1e9);
    if (upstreamNanos >= 0) {
      upstreamDuration.labels(route).observe(upstreamNanos / 1e9);
      overhead.labels(route).observe(Math.max(0, headNanos - upstreamNanos) / 1e9);
    } else {
      overhead.labels(route).observe(headNanos / 1e9);
    }
  }

  /** @param outcome how a request ended, a {@code Completion.Outcome} label such as {@code aborted} */
  public void requestOutcome(String outcome) {
    // Resolved once per outcome: labels() builds a list on every call, and this runs on every request.
    outcomeChildren.computeIfAbsent(outcome, o -> outcomes.labels(o)).inc();
  }

  /** Sets the front server's figures; called before each scrape. */
  public void frontServer(int open, long refused, long malformed) {
    clientConnections.set(open);
    clientConnectionsRefused.set(refused);
    malformedRequests.set(malformed);
  }

  /** @param connected whether a relay session is up */
  public void relayConnected(boolean connected) {
    relayConnected.set(connected ? 1 : 0);
  }

  /** Records one attempt to open a connection to a lease. */
  public void relayHandshake(String lease, String outcome, long nanos) {
    relayHandshakes.labels(lease, outcome).inc();
    relayHandshakeDuration.labels(lease).observe(nanos / 1e9);
  }

  /** Sets the idle pooled connections of a lease. */
  public void relayPooled(String lease, int idle) {
    relayPooledConnections.labels(lease).set(idle);
  }

  /** @return counters of bytes from ({@code in}) and to ({@code out}) a lease, resolved once per connection */
  public Counter.Child[] relayBytes(String lease) {
    return new Counter.Child[] {relayBytes.labels(lease, "in"), relayBytes.labels(lease, "out")};
  }

  /** @param outcome {@code applied}, {@code rejected} or {@code unchanged} */
  public void configReloaded(String outcome) {
    configReloads.labels(outcome).inc();
  }

  static String statusClass(int status) {
    return switch (status / 100) {
      case 1 -> "1xx";
      case 2 -> "2xx";
      case 3 -> "3xx";
      case 4 -> "4xx";
      default -> "5xx";
    };
  }

  static String methodLabel(String method) {
    return switch (method) {
      case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" -> method;
      default -> "OTHER";
    };
  }
}
