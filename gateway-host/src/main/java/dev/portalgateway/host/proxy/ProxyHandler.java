package dev.portalgateway.host.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Completion;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.config.ServerConfig;
import dev.portalgateway.host.http1.RequestBodyException;
import dev.portalgateway.host.ops.AccessLog;
import dev.portalgateway.host.ops.GatewayMetrics;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.runtime.ExchangeRecord;
import dev.portalgateway.host.runtime.FilterChain;
import dev.portalgateway.host.runtime.GatewayRuntime;
import dev.portalgateway.host.runtime.RouteTable;
import dev.portalgateway.host.runtime.RuntimeHolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Serves {@code /peer/{name}/{rest}}: turns the exchange into a {@link Request}, runs it through
 * the current generation's chain, and streams the {@link Response} back.
 */
public final class ProxyHandler implements HttpHandler {

  private final RuntimeHolder runtimes;
  private final GatewayMetrics metrics;
  private final StreamingResponseWriter writer;
  private final String scheme;
  private final OtherPaths otherPaths;
  /** Responses being written to clients now, for the stalled-write check. */
  private final java.util.Set<CountingOutput> writing = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean draining;

  /**
   * @param runtimes the current configuration generation
   * @param metrics where request metrics go
   * @param keepaliveTimer runs SSE keep-alive checks
   * @param scheme {@code http} or {@code https}, as the listener serves
   */
  public ProxyHandler(RuntimeHolder runtimes, GatewayMetrics metrics, ScheduledExecutorService keepaliveTimer, String scheme) {
    this(runtimes, metrics, keepaliveTimer, scheme, null);
  }

  /**
   * What serves paths outside the routes' mount point on the same listener: plugins' public
   * endpoints. A path it does not serve gets the proxy's 404.
   */
  public interface OtherPaths {
    /** @return whether a path outside the routes' mount point is served */
    boolean serves(String rawPath);

    /** Answers the exchange and closes it. */
    void serve(HttpExchange exchange) throws IOException;
  }

  /**
   * @param otherPaths serves paths outside the routes' mount point, or {@code null} for none
   * @see #ProxyHandler(RuntimeHolder, GatewayMetrics, ScheduledExecutorService, String)
   */
  public ProxyHandler(RuntimeHolder runtimes, GatewayMetrics metrics, ScheduledExecutorService keepaliveTimer,
      String scheme, OtherPaths otherPaths) {
    this.otherPaths = otherPaths;
    this.runtimes = runtimes;
    this.metrics = metrics;
    this.writer = new StreamingResponseWriter(keepaliveTimer);
    keepaliveTimer.scheduleWithFixedDelay(this::abortStalledWrites, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    this.scheme = scheme;
  }

  /** Answers new requests with 503 from now on, while those in flight finish. */
  public void startDraining() {
    draining = true;
  }

  /** @return requests being handled now */
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    inFlight.incrementAndGet();
    try {
      String rawPath = exchange.getRequestURI().getRawPath();
      if (otherPaths != null && !draining && rawPath != null
          && !rawPath.startsWith(runtimes.peek().config().config().server().routePrefix()) && otherPaths.serves(rawPath)) {
        otherPaths.serve(exchange);
        return;
      }
      handleCounted(exchange);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private void handleCounted(HttpExchange exchange) throws IOException {
    long start = System.nanoTime();
    metrics.requestStarted();
    GatewayRuntime runtime = runtimes.acquire();
    ServerConfig server = runtime.config().config().server();
    Headers requestHeaders = ExchangeHeaders.of(exchange);
    String requestId = RequestIds.accept(requestHeaders.first("X-Request-Id"));
    String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
    String rawPath = exchange.getRequestURI().getRawPath();
    String rawQuery = exchange.getRequestURI().getRawQuery();
    InetAddress peer = exchange.getRemoteAddress().getAddress();
    InetAddress client = runtime.clientAddresses().client(peer, requestHeaders.all("X-Forwarded-For"));
    ExchangeRecord record = new ExchangeRecord();
    String route = null;
    FilterChain chain = null;
    Request request = null;
    int status = 500;
    long headNanos = -1;
    CountingOutput counted = null;
    LimitedInputStream requestBody = null;
    Completion.Outcome outcome = null; // decided at the end unless the response broke
    boolean dropConnection = false; // a cut response: the connection is dropped, not ended cleanly
    Body unsent = null; // a response body not yet opened: discarded if anything fails before it is
    try {
      Response response;
      CorsPolicy cors = CorsPolicy.DISABLED;
      boolean preflight = false;
      try {
        PeerPath target = PeerPath.parse(rawPath, server.routePrefix());
        route = target.route();
        chain = runtime.chainFor(route);
        // Built before the checks, so a refusal is reported to the route's plugins like any exchange.
        request = Request.builder()
            .method(method)
            .scheme(scheme)
            .host(requestHeaders.first("Host"))
            .baseUrl(server.publicUrl())
            .path(rawPath)
            .route(route)
            .upstreamPath(target.upstreamPath())
            .rawQuery(rawQuery)
            .headers(forwardHeaders(requestHeaders, peer, runtime.clientAddresses().isTrustedProxy(peer), requestId))
            .clientAddress(client)
            .requestId(requestId)
            .attribute(FilterChain.EXCHANGE_RECORD, record)
            .build();
        admit(server, method, rawPath, rawQuery, requestHeaders);
        cors = runtime.routes().cors(route);
        preflight = cors.isPreflight(method, requestHeaders);
        if (preflight) {
          response = cors.preflight(requestHeaders);
        } else {
          long declared = declaredLength(requestHeaders, server.maxBodyBytes());
          if (declared != 0 || requestHeaders.contains("Transfer-Encoding")) {
            requestBody = new LimitedInputStream(exchange.getRequestBody(), server.maxBodyBytes());
            request = request.withBody(Body.ofStream(requestBody, declared));
          }
          response = runChain(chain, request);
        }
      } catch (ProblemException refused) {
        response = refused.toResponse();
      }
      unsent = response.body();
      Headers responseHeaders = responseHeaders(response.headers(), requestId);
      if (server.tls() != null && server.tls().hstsMaxAge() != null && !responseHeaders.contains("Strict-Transport-Security")) {
        // Browsers then refuse plain HTTP to this host for max-age: no downgrade by a network in between.
        responseHeaders = responseHeaders.with("Strict-Transport-Security",
            "max-age=" + server.tls().hstsMaxAge().toSeconds() + "; includeSubDomains");
      }
      if (!preflight) {
        responseHeaders = cors.decorate(requestHeaders, responseHeaders);
      }
      status = response.status();
      Body body = response.body();
      boolean bodiless = "HEAD".equals(method) || status == 204 || status == 304 || status < 200;
      long length = bodiless || body.length() == 0 ? -1 : body.length() < 0 ? 0 : body.length();
      copyHeaders(responseHeaders, exchange.getResponseHeaders());
      if (draining) {
        // Tell keep-alive clients to reconnect elsewhere: this instance is going away.
        exchange.getResponseHeaders().set("Connection", "close");
      }
      exchange.sendResponseHeaders(status, length);
      headNanos = System.nanoTime() - start;
      if (length == -1) {
        unsent = null;
        body.discard();
      } else {
        String contentType = responseHeaders.first("Content-Type");
        boolean eventStream = contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream");
        counted = new CountingOutput(exchange.getResponseBody(), runtime.config().config().proxy().writeTimeout().toNanos());
        unsent = null;
        try (InputStream in = openAfterHead(body)) {
          counted.source = in;
          writing.add(counted);
          if (StreamingResponseWriter.nothingBuffered(in)) {
            // Both servers hold the head back until the first body write; an event stream's first
            // event may be long in coming, so the head goes now. A body already here goes with it.
            counted.flush();
          }
          writer.copy(in, counted, body.length(),
              eventStream ? runtime.routes().sseKeepalive(route) : java.time.Duration.ZERO);
        }
      }
    } catch (StreamingResponseWriter.UpstreamReadException e) {
      dropConnection = true;
      if (counted != null && counted.stalled) {
        outcome = Completion.Outcome.CLIENT_GONE; // it stopped reading; its upstream was closed for it
      } else {
        outcome = Completion.Outcome.ABORTED;
        JsonLog.warn("proxy", "upstream failed while streaming the response body; aborting the client's response",
            "request_id", requestId, "route", route, "error", e.getCause());
      }
      // Leaving without closing the body stream makes the server drop the connection instead of
      // ending the body cleanly, so the client sees a truncated response, not a complete one.
      throw e;
    } catch (IOException e) {
      outcome = Completion.Outcome.CLIENT_GONE;
    } finally {
      if (counted != null) {
        writing.remove(counted);
        if (counted.stalled) {
          Thread.interrupted(); // ours, for the stalled write: not for whatever runs next
        }
      }
      if (unsent != null) {
        // The client left before the head went out (or writing it failed): release the upstream
        // connection, and let a plugin that wrapped the body see it end.
        unsent.discard();
      }
      long total = System.nanoTime() - start;
      if (!dropConnection) {
        exchange.close();
      }
      outcome = outcome(outcome, record, status);
      long bytesIn = requestBody == null ? 0 : requestBody.count();
      long bytesOut = counted == null ? 0 : counted.count;
      String label = route == null ? RouteTable.UNKNOWN : metrics.routeLabel(runtime.routes().metricsLabel(route));
      metrics.requestFinished(label, method, status, total, record.upstreamNanos(), headNanos < 0 ? total : headNanos);
      metrics.requestOutcome(outcome.label());
      Principal principal = record.principal();
      if (server.accessLog()) {
        AccessLog.write(new AccessLog.Entry(requestId, method, rawPath, rawQuery, route, status, total,
            record.upstreamNanos(), bytesIn, bytesOut, client.getHostAddress(), requestHeaders.first("User-Agent"),
            principal == null ? null : principal.id(), outcome.label()));
      }
      if (chain != null && chain.observed()) {
        Request last = record.lastRequest();
        chain.complete(new Completion(last != null ? last : request, route, status, bytesIn, bytesOut,
            java.time.Duration.ofNanos(total), outcome, principal));
      }
      runtime.release();
    }
  }

  /**
   * Opens a response body whose head has gone out. Failing now, the response must not end as if
   * complete: the failure is the upstream's side (a codec, a plugin's stream wrapper).
   */
  private static InputStream openAfterHead(Body body) throws IOException {
    try {
      return body.open();
    } catch (IOException | RuntimeException e) {
      throw new StreamingResponseWriter.UpstreamReadException(e instanceof IOException io ? io : new IOException(e));
    }
  }

  /**
   * How an exchange ended: as the response's writing found ({@code broke}), else by what the
   * chain saw. A refusal is an error status the gateway gave without the upstream answering.
   */
  private static Completion.Outcome outcome(Completion.Outcome broke, ExchangeRecord record, int status) {
    if (broke != null) {
      return broke;
    }
    if (record.clientAborted()) {
      return Completion.Outcome.CLIENT_GONE;
    }
    if (status >= 400 && record.connectorFailed()) {
      return Completion.Outcome.UPSTREAM_FAILED;
    }
    if (status >= 400 && record.upstreamNanos() < 0) {
      return Completion.Outcome.REJECTED;
    }
    return Completion.Outcome.OK;
  }

  /** Refuses what must not reach any route: a draining gateway, an oversized head. */
  private void admit(ServerConfig server, String method, String rawPath, String rawQuery, Headers headers)
      throws ProblemException {
    if (draining) {
      throw new ProblemException(Problem.of(503, "draining", "Service Unavailable", "The gateway is shutting down.",
          "Retry; another gateway instance will take the request."), Headers.of("Retry-After", "1"), null);
    }
    if (headSize(method, rawPath, rawQuery, headers) > server.maxHeaderBytes()) {
      throw new ProblemException(Problem.of(431, "headers-too-large", "Request Header Fields Too Large",
          "The request line and headers are larger than " + server.maxHeaderBytes() + " bytes.",
          "Send fewer or smaller headers, or raise server.max_header_bytes."));
    }
  }

  private static Response runChain(FilterChain chain, Request request) {
    try {
      return chain.proceed(request);
    } catch (RequestBodyException e) {
      // The client stopped sending its body (it hung up, most likely): nobody is left to answer.
      request.attribute(FilterChain.EXCHANGE_RECORD).clientAborted(true);
      return Problem.of(400, "request-body-failed", "Bad Request", "Reading the request body failed.", null).toResponse();
    } catch (ProblemException e) {
      if (e.problem().status() >= 500) {
        JsonLog.warn("proxy", e.problem().detail(), "request_id", request.requestId(), "route", request.route(),
            "problem", e.problem().type(), "error", e.getCause());
      }
      return e.toResponse();
    } catch (IOException e) {
      JsonLog.warn("proxy", "request failed", "request_id", request.requestId(), "route", request.route(), "error", e);
      return Problem.of(502, "bad-gateway", "Bad Gateway", "The gateway could not complete the request upstream.",
          "See the gateway log for request id " + request.requestId() + ".").toResponse();
    } catch (RuntimeException | LinkageError e) {
      JsonLog.error("proxy", "a filter or connector failed", "request_id", request.requestId(), "route",
          request.route(), "error", e);
      return Problem.of(500, "internal-error", "Internal Server Error", "The gateway failed to handle the request.",
          "See the gateway log for request id " + request.requestId() + ".").toResponse();
    }
  }

  /** The request fields to send upstream: hop-by-hop removed, forwarding fields added. */
  private Headers forwardHeaders(Headers in, InetAddress peer, boolean fromTrustedProxy, String requestId) {
    Headers.Builder b = HopByHop.strip(in).toBuilder();
    String priorFor = String.join(", ", in.all("X-Forwarded-For"));
    b.set("X-Forwarded-For", priorFor.isEmpty() ? peer.getHostAddress() : priorFor + ", " + peer.getHostAddress());
    // Proto and host describe the client's view; only a trusted proxy in front may have set them.
    if (!fromTrustedProxy || b.first("X-Forwarded-Proto") == null) {
      b.set("X-Forwarded-Proto", scheme);
    }
    String host = in.first("Host");
    if (host != null && (!fromTrustedProxy || b.first("X-Forwarded-Host") == null)) {
      b.set("X-Forwarded-Host", host);
    }
    b.set("X-Request-Id", requestId);
    return b.build();
  }

  private static Headers responseHeaders(Headers upstream, String requestId) {
    Headers.Builder b = HopByHop.strip(upstream).toBuilder();
    // The server writes its own Content-Length (from the length we pass) and Date. (For HEAD both
    // providers write none, so a HEAD answer carries no length: a known limit of the server API.)
    b.remove("Content-Length");
    b.remove("Date");
    b.set("X-Request-Id", requestId);
    return b.build();
  }

  /**
   * @return the declared body length, or -1 when the body is chunked
   * @throws ProblemException 400 when the framing is ambiguous, 413 when the declared length is over the limit
   */
  private static long declaredLength(Headers h, long maxBodyBytes) throws ProblemException {
    List<String> values = h.all("Content-Length");
    if (values.isEmpty()) {
      return h.contains("Transfer-Encoding") ? -1 : 0;
    }
    long n = -1;
    // Both providers refuse most bad framing themselves; this is the check for whatever gets past.
    if (values.size() == 1 && !h.contains("Transfer-Encoding")) {
      try {
        n = Long.parseLong(values.get(0).trim());
      } catch (NumberFormatException e) {
        n = -1;
      }
    }
    if (n < 0) {
      throw new ProblemException(Problem.of(400, "bad-content-length", "Bad Request",
          "The request has more than one Content-Length, one that is not a number, or one with Transfer-Encoding.",
          null)); // ambiguous framing is how requests get smuggled
    }
    if (n > maxBodyBytes) {
      throw new dev.portalgateway.api.BodyTooLargeException(maxBodyBytes);
    }
    return n;
  }

  private static long headSize(String method, String path, String query, Headers headers) {
    long size = method.length() + (path == null ? 0 : path.length()) + (query == null ? 0 : query.length() + 1) + 12;
    for (int i = 0; i < headers.size(); i++) {
      size += headers.name(i).length() + headers.value(i).length() + 4;
    }
    return size;
  }

  private static void copyHeaders(Headers from, com.sun.net.httpserver.Headers to) {
    for (int i = 0; i < from.size(); i++) {
      to.add(from.name(i), from.value(i));
    }
  }

  /**
   * Aborts responses whose client stopped reading: a write that made no progress for
   * {@code proxy.write_timeout}. Closing the response's source frees the upstream connection (and
   * the service's resources behind it) at once. Interrupting the exchange's virtual thread, blocked
   * in that write, makes the JDK close the client's socket under it (an interrupted virtual thread
   * in socket I/O closes the socket): neither server provider has a write timeout of its own.
   * Runs every second on the gateway's timer.
   */
  private void abortStalledWrites() {
    long now = System.nanoTime();
    for (CountingOutput c : writing) {
      if (c.stalledSince(now) && writing.remove(c)) {
        JsonLog.warn("proxy", "a client stopped reading its response; aborting the exchange and closing its upstream",
            "bytes_out", c.count, "write_timeout_seconds", java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(c.timeoutNanos));
        c.stalled = true;
        try {
          InputStream source = c.source;
          if (source != null) {
            source.close();
          }
        } catch (IOException | RuntimeException e) {
          // Closed either way.
        }
        c.writer.interrupt();
      }
    }
  }

  /**
   * The client's stream, counting what was written to it (also when the exchange breaks off), and
   * since when the write in progress, if any, has been blocked.
   */
  private static final class CountingOutput extends java.io.FilterOutputStream {
    private final long timeoutNanos;
    /** The exchange's thread, which writes; interrupted when its write is stalled. */
    final Thread writer = Thread.currentThread();
    private long count;
    /** When the write in progress started; 0 while none is. */
    private volatile long writingSince;
    volatile InputStream source;
    volatile boolean stalled;

    CountingOutput(OutputStream out, long timeoutNanos) {
      super(out);
      this.timeoutNanos = timeoutNanos;
    }

    boolean stalledSince(long now) {
      long since = writingSince;
      return since != 0 && now - since > timeoutNanos;
    }

    @Override
    public void write(int b) throws IOException {
      writingSince = System.nanoTime();
      try {
        out.write(b);
      } finally {
        writingSince = 0;
      }
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      writingSince = System.nanoTime();
      try {
        out.write(b, off, len);
      } finally {
        writingSince = 0;
      }
      count += len;
    }

    @Override
    public void flush() throws IOException {
      writingSince = System.nanoTime();
      try {
        out.flush();
      } finally {
        writingSince = 0;
      }
    }
  }
}
