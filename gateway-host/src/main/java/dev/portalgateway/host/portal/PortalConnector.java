package dev.portalgateway.host.portal;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.config.GatewayConfig.RelayConfig;
import dev.portalgateway.host.http1.Http1Client;
import dev.portalgateway.host.http1.Http1Exception;
import dev.portalgateway.host.http1.TransportPool;
import dev.portalgateway.host.ops.GatewayMetrics;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.proxy.HopByHop;
import dev.portalgateway.portal.client.ConnectionRefusedException;
import dev.portalgateway.portal.client.RelayClient;
import dev.portalgateway.portal.crypto.HandshakeException;
import dev.portalgateway.portal.crypto.IdentityFile;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.wire.ResponseCode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The {@code portal} connector: reaches a lease through the Portal relay, end-to-end encrypted
 * between the gateway and the lease's tunnel, so the relay only ever forwards ciphertext.
 *
 * <p>It lives as long as the gateway (a reload does not reconnect the relay or drop pooled
 * connections). Per lease it keeps a pool of established secure connections speaking HTTP/1.1
 * keep-alive, so the handshake is off the hot path; the gateway's own HTTP/1.1 codec runs over
 * them exactly as over a TCP socket.
 */
public final class PortalConnector implements Connector {
  /** What the gateway asks the tunnel to speak over the secure stream. */
  static final String ALPN = "http/1.1";
  /**
   * End-to-end handshakes under way at once per lease. Each costs milliseconds of CPU on both
   * sides: a burst of 256 requests on a pool of 64 used to start about 190 at once, and every
   * request of that burst waited for them all (p99 over a second in docs/performance.md). Past
   * this many, a request waits for a released connection or a finished handshake instead.
   */
  static final int MAX_OPENING_PER_LEASE = 16;

  private final RelayConfig config;
  private final PortalIdentity identity;
  private final RelayLink link;
  private final LeaseResolver leases;
  private final ScheduledExecutorService timers;
  private final Map<String, LeasePool> clients = new ConcurrentHashMap<>();
  private final GatewayMetrics metrics;
  private final SeenLeases seen;

  /** One lease's pooled connections and the codec over them. */
  private record LeasePool(String label, TransportPool pool, Http1Client client) {}

  private final Duration responseTimeout;
  private ScheduledFuture<?> sweep;
  private ScheduledFuture<?> saveSeen;

  private PortalConnector(RelayConfig config, PortalIdentity identity, ScheduledExecutorService timers,
      Duration responseTimeout, GatewayMetrics metrics, SeenLeases seen) {
    this.metrics = metrics;
    this.config = config;
    this.responseTimeout = responseTimeout;
    this.identity = identity;
    this.timers = timers;
    this.seen = seen;
    this.link = new RelayLink(config.allUrls(), config.connectTimeout(), config.reconnectMax(), seen::relayConnected);
    this.leases = new LeaseResolver(config.leaseCacheTtl(), config.handshakeTimeout(), seen);
  }

  /**
   * Loads (or creates) the gateway's identity and starts connecting to the relay in the background.
   *
   * @param config the {@code relay:} section
   * @param dataDir the gateway's data directory; the identity lives in {@code portal/identity.key}
   * @param timers runs read-timeout timers
   * @param responseTimeout how long to wait for a lease's response head ({@code proxy.response_timeout})
   * @param metrics where handshake, pool and byte metrics go
   * @throws IOException when the identity file cannot be read or written
   */
  public static PortalConnector start(RelayConfig config, Path dataDir, ScheduledExecutorService timers,
      Duration responseTimeout, GatewayMetrics metrics) throws IOException {
    PortalIdentity identity = IdentityFile.loadOrCreate(dataDir.resolve("portal").resolve("identity.key"));
    JsonLog.info("relay", "gateway Portal identity", "id", identity.id(), "relays", String.join(",", config.allUrls()));
    SeenLeases seen = new SeenLeases(dataDir.resolve("portal").resolve("seen-leases.json"), config.leaseOutageWindow(),
        java.time.Clock.systemUTC());
    PortalConnector connector = new PortalConnector(config, identity, timers, responseTimeout, metrics, seen);
    connector.link.start();
    // Releases close expired idle connections as they go; this covers a lease that went quiet,
    // whose pool would otherwise hold its connections (and the tunnel's) until the next request,
    // and closes at once the ones the tunnel closed (a tunnel that is stopping waits for that).
    long sweepMillis = 1000;
    connector.sweep = timers.scheduleWithFixedDelay(
        () -> connector.clients.values().forEach(p -> p.pool().evictExpired()),
        sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
    connector.saveSeen = timers.scheduleWithFixedDelay(seen::save, 10, 10, TimeUnit.SECONDS);
    return connector;
  }

  /** @return whether a relay session is up */
  public boolean isConnected() {
    return link.isConnected();
  }

  /**
   * @return whether {@code name} is a lease the relay listed: only those become metric labels, so
   *     clients asking for made-up names cannot grow the metrics without bound
   */
  public boolean isKnownLease(String name) {
    return leases.isKnown(name);
  }

  /** @return the gateway's Portal ID, which services behind the relay see as the client */
  public String identityId() {
    return identity.id();
  }

  @Override
  public Response send(Request request) throws IOException {
    RelayClient relay = link.current();
    if (relay == null) {
      throw new ProblemException(Problem.of(503, "relay-unavailable", "Service Unavailable",
          "The gateway is not connected to a Portal relay, so lease '" + request.route() + "' cannot be reached.",
          "Retry shortly; the gateway reconnects by itself. Check that the relay at relay.url is running."),
          Headers.of("Retry-After", "5"), null);
    }
    String leaseId = leases.resolve(request.route(), relay);
    if (leaseId == null) {
      throw absentLease(request.route());
    }
    // Read now if small, so that it can go to the new lease below if this one turned out gone.
    Body body = Http1Client.bufferedIfSmall(request.body());
    if (body != request.body()) {
      request = request.withBody(body);
    }
    Response response;
    try {
      response = sendTo(leaseId, request);
    } catch (Http1Exception e) {
      if (!refusedAsUnknown(e) || LeaseResolver.isLeaseId(request.route())) {
        throw translate(e, request.route(), leaseId);
      }
      // The name's lease is gone from the relay: a tunnel restarted under a new identity, say.
      // The relay refused before any of the request went out, so it can go to the new lease.
      leases.invalidate();
      closePool(leaseId);
      String current = leases.resolve(request.route(), relay);
      if (current == null || current.equals(leaseId)) {
        throw absentLease(request.route());
      }
      try {
        response = sendTo(current, request);
      } catch (Http1Exception again) {
        throw translate(again, request.route(), current);
      }
    }
    seen.seen(java.util.List.of(request.route()));
    return response.withHeaders(HopByHop.strip(response.headers()));
  }

  private Response sendTo(String leaseId, Request request) throws IOException {
    Http1Client client = clients.computeIfAbsent(leaseId, id -> newPool(id, poolLabel(request.route()))).client();
    return client.send(request.method(), request.target(), request.headers(), request.body());
  }

  /** @return whether the relay refused the connection because it holds no such lease */
  private static boolean refusedAsUnknown(Http1Exception e) {
    return e.getCause() instanceof ConnectionRefusedException refused && refused.code() == ResponseCode.INVALID_IDENTITY;
  }

  /**
   * The metrics label of a new pool: the route while the relay lists it (so a made-up lease ID in
   * a URL is {@code unknown}, not a new series), within the gateway's bound on route labels.
   */
  private String poolLabel(String route) {
    return leases.isKnown(route) ? metrics.routeLabel(route) : dev.portalgateway.host.runtime.RouteTable.UNKNOWN;
  }

  /** @return whether a lease's connection pool counts into metrics labelled {@code label} */
  public boolean countsInto(String label) {
    for (LeasePool p : clients.values()) {
      if (p.label().equals(label)) {
        return true;
      }
    }
    return false;
  }

  private LeasePool newPool(String leaseId, String label) {
    var bytes = metrics.relayBytes(label);
    TransportPool pool = new TransportPool(() -> {
      long start = System.nanoTime();
      String outcome = "failed";
      try {
        SecureChannelTransport transport = new SecureChannelTransport(
            currentRelay().connect(leaseId, identity, ALPN, config.handshakeTimeout()), timers, bytes[0], bytes[1]);
        outcome = "ok";
        return transport;
      } catch (ConnectionRefusedException e) {
        outcome = "refused";
        throw e;
      } finally {
        metrics.relayHandshake(label, outcome, System.nanoTime() - start);
      }
    }, config.maxIdlePerLease(), config.idleTimeout().toNanos(), MAX_OPENING_PER_LEASE, config.handshakeTimeout().toNanos());
    return new LeasePool(label, pool, new Http1Client(pool, label, responseTimeout.toMillis()));
  }

  /** Updates the pooled-connection gauge; called before each metrics scrape. */
  public void updateMetrics() {
    clients.values().forEach(p -> metrics.relayPooled(p.label(), p.pool().idleCount()));
  }

  private RelayClient currentRelay() throws IOException {
    RelayClient relay = link.current();
    if (relay == null) {
      throw new IOException("the relay session ended");
    }
    return relay;
  }

  private ProblemException translate(Http1Exception e, String route, String leaseId) {
    // A lease that cannot be reached, or went away, is an outage (503, retry) when it was there
    // lately; a peer that fails a check of the handshake is a security event.
    Throwable cause = e.getCause();
    if (cause instanceof ConnectionRefusedException refused) {
      if (refused.code() == ResponseCode.INVALID_IDENTITY) {
        leases.invalidate();
        closePool(leaseId);
        return absentLease(route);
      }
      return new ProblemException(Problem.of(502, "lease-rejected", "Bad Gateway",
          "Lease '" + route + "' refused the connection (" + refused.code() + ").",
          "Check the tunnel serving the lease: it may be shutting down or misconfigured."), Headers.empty(), e);
    }
    if (cause instanceof HandshakeException lost && lost.reason() == HandshakeException.Reason.CONNECTION_LOST) {
      // The tunnel went away mid-handshake (it is stopping or restarting): an outage, not an attack.
      JsonLog.warn("relay", "the connection to a lease ended during the end-to-end handshake", "lease", route,
          "lease_id", leaseId, "error", lost);
      return new ProblemException(Problem.of(503, "lease-unavailable", "Service Unavailable",
          "The connection to lease '" + route + "' ended during the end-to-end handshake (" + lost.getMessage() + ").",
          "Retry shortly: the lease's tunnel is probably stopping or restarting."), Headers.of("Retry-After", "5"), e);
    }
    if (cause instanceof HandshakeException handshake) {
      // Only a check that failed is a security event: the peer is not who the lease says it is.
      JsonLog.error("security", "end-to-end handshake with a lease failed; the connection was dropped",
          "event", "handshake_failed", "lease", route, "lease_id", leaseId, "reason", handshake.reason().name(),
          "error", handshake);
      return new ProblemException(Problem.of(502, "handshake-failed", "Bad Gateway",
          "The end-to-end handshake with lease '" + route + "' failed.",
          "The lease's tunnel did not prove it holds the lease's key. The gateway logged a security event."),
          Headers.empty(), e);
    }
    return switch (e.kind()) {
      case TIMEOUT -> new ProblemException(Problem.of(504, "upstream-timeout", "Gateway Timeout",
          "Lease '" + route + "' did not answer in time.", "Check the service behind the lease's tunnel."),
          Headers.empty(), e);
      case PROTOCOL -> new ProblemException(Problem.of(502, "upstream-protocol-error", "Bad Gateway",
          "Lease '" + route + "' answered with something that is not valid HTTP/1.1: " + e.getMessage() + ".",
          "Check that the service behind the lease's tunnel speaks HTTP/1.1."), Headers.empty(), e);
      case CONNECT -> seen.outage(route) != null
          ? new ProblemException(Problem.of(503, "lease-unavailable", "Service Unavailable",
              "The gateway could not open a connection to lease '" + route + "' through the relay ("
                  + e.reason() + ").",
              "Retry shortly: the lease's tunnel is probably stopping, restarting or reconnecting."),
              Headers.of("Retry-After", "5"), e)
          : new ProblemException(Problem.of(502, "lease-unreachable", "Bad Gateway",
          "The gateway could not open a connection to lease '" + route + "' through the relay (" + e.reason() + ").",
          "Check that the lease's tunnel is running and connected to the relay."), Headers.empty(), e);
      default -> new ProblemException(Problem.of(502, "upstream-failed", "Bad Gateway",
          "The connection to lease '" + route + "' broke before a complete response head arrived (" + e.reason() + ").",
          "Check the service behind the lease's tunnel."), Headers.empty(), e);
    };
  }

  /**
   * A lease the relay does not have now: an outage when it was there lately (a tunnel restarting,
   * a laptop asleep), so the client retries instead of dropping its session; unknown otherwise.
   */
  private ProblemException absentLease(String route) {
    Duration since = seen.outage(route);
    if (since == null) {
      return unknownLease(route);
    }
    return new ProblemException(Problem.of(503, "lease-unavailable", "Service Unavailable",
        "Lease '" + route + "' is not connected to the relay now; it was last seen " + since.toSeconds() + " s ago.",
        "Retry shortly: the service behind it is probably restarting or reconnecting. The gateway answers 503 "
            + "for a lease seen within relay.lease_outage_window, 404 for names it has never seen."),
        Headers.of("Retry-After", "5"), null);
  }

  private static ProblemException unknownLease(String route) {
    return new ProblemException(Problem.of(404, "unknown-lease", "Not Found",
        "No upstream or Portal lease is named '" + route + "'.",
        "Use /peer/NAME/... with an upstream name from the configuration, or the name or ID of a lease "
            + "registered with the relay."));
  }

  private void closePool(String leaseId) {
    LeasePool pool = clients.remove(leaseId);
    if (pool != null) {
      pool.client().close();
      metrics.relayPooled(pool.label(), 0);
    }
  }

  @Override
  public void close() {
    if (sweep != null) {
      sweep.cancel(false);
    }
    if (saveSeen != null) {
      saveSeen.cancel(false);
    }
    seen.save();
    link.close();
    clients.values().forEach(p -> p.client().close());
    clients.clear();
  }
}
