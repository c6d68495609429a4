package dev.portalgateway.host.server;

import com.sun.net.httpserver.HttpExchange;
import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.ops.AccessLog;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.plugin.ContextClassLoader;
import dev.portalgateway.host.plugin.FilterFactory;
import dev.portalgateway.host.proxy.ExchangeHeaders;
import dev.portalgateway.host.proxy.HopByHop;
import dev.portalgateway.host.proxy.RequestIds;
import dev.portalgateway.host.runtime.GatewayRuntime;
import dev.portalgateway.host.runtime.RuntimeHolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.util.Locale;

/**
 * Serves the endpoints plugins add: to the admin listener, {@code /plugins/<plugin>/<name>}
 * ({@link dev.portalgateway.api.PluginContext#adminEndpoint}), or to the public listener, outside
 * the routes' mount point ({@link dev.portalgateway.api.PluginContext#publicEndpoint}), from the
 * current configuration generation. Each call acquires that generation and releases it only after
 * its response body is written, as a proxied request does, so a reload cannot close the plugin
 * while its endpoint runs.
 */
final class PluginEndpoints {
  /** Where plugin endpoints live on the admin listener. */
  static final String PREFIX = "/plugins/";
  /**
   * Admin calls are commands (purge, flush), not uploads: the body is read into memory before the
   * endpoint runs, so the endpoint sees it whole and replayable, and this bounds that memory.
   */
  static final int MAX_BODY_BYTES = 1024 * 1024;
  /**
   * How much more of a refused body is read and thrown away before the 413 goes out: a server
   * that closes a connection with unread bytes resets it, and the caller then loses the 413 too.
   */
  static final long DISCARD_BYTES = 16L * 1024 * 1024;

  private static final Response WEB_PAGE_REFUSED = Problem.of(403, "admin-web-page-refused", "Forbidden",
      "Plugin admin endpoints do not answer requests that a web page made (the request has an Origin,"
          + " or a Sec-Fetch-Site other than none).",
      "Call the endpoint from a script or a tool such as curl.").toResponse();

  private final RuntimeHolder runtimes;
  /** {@code null} for the admin listener; else the public listener's scheme. */
  private final String publicScheme;

  private PluginEndpoints(RuntimeHolder runtimes, String publicScheme) {
    this.runtimes = runtimes;
    this.publicScheme = publicScheme;
  }

  /** @return the admin listener's plugin endpoints, served from {@code runtimes}' current generation */
  static PluginEndpoints admin(RuntimeHolder runtimes) {
    return new PluginEndpoints(runtimes, null);
  }

  /** @return the public listener's plugin endpoints; {@code scheme} is {@code http} or {@code https} */
  static PluginEndpoints publicListener(RuntimeHolder runtimes, String scheme) {
    return new PluginEndpoints(runtimes, scheme);
  }

  /** Either kind of endpoint: both answer a request with a response. */
  private interface Handler {
    Response handle(Request request) throws IOException;
  }

  /**
   * The plugin and endpoint a call goes to, and its filter in the acquired generation.
   *
   * @param name the endpoint's name (admin) or path (public), for messages
   * @param upstreamPath the part of the path that is the endpoint's own
   */
  private record Target(ActiveFilter plugin, String name, Handler endpoint, String upstreamPath) {}

  /** @return whether the current generation has a public endpoint at or above {@code rawPath} */
  boolean servesPublic(String rawPath) {
    return publicScheme != null && rawPath != null
        && FilterFactory.findPublicEndpoint(runtimes.peek().filters(), rawPath) != null;
  }

  /** Answers one exchange for a plugin endpoint (on the admin listener, one under {@link #PREFIX}); closes it. */
  void serve(HttpExchange exchange) throws IOException {
    long start = System.nanoTime();
    String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
    String rawPath = exchange.getRequestURI().getRawPath();
    Headers requestHeaders = ExchangeHeaders.of(exchange);
    String requestId = RequestIds.accept(requestHeaders.first("X-Request-Id"));
    if (publicScheme == null && fromWebPage(requestHeaders)) {
      answerAndClose(exchange, method, requestId, WEB_PAGE_REFUSED);
      return;
    }
    GatewayRuntime runtime;
    try {
      runtime = runtimes.acquire();
    } catch (IllegalStateException stopped) {
      answerAndClose(exchange, method, requestId, Problem.of(503, "draining", "Service Unavailable",
          "The gateway is shutting down.", null).toResponse());
      return;
    }
    boolean aborted = false;
    int status = 500;
    String outcome = "ok";
    Target target = null;
    try {
      target = publicScheme == null ? findAdmin(runtime, rawPath) : findPublic(runtime, rawPath);
      Response response;
      if (target == null) {
        response = publicScheme == null ? notFound(runtime, rawPath) : Problem.of(404, "not-found", "Not Found",
            "Nothing is served at " + rawPath + ".", null).toResponse();
      } else {
        response = call(target, exchange, method, rawPath, requestHeaders, requestId, runtime);
      }
      status = response.status();
      send(exchange, method, requestId, response, target);
    } catch (PluginBodyException e) {
      aborted = true;
      outcome = "aborted";
      JsonLog.warn(logger(), "a plugin's endpoint failed while its response body was written; aborting the response",
          "plugin", e.plugin, "request_id", requestId, "error", e.getCause());
      // Leaving without closing makes the server drop the connection, so the caller sees a
      // truncated answer instead of a short one that looks complete.
      throw e;
    } catch (IOException callerGone) {
      // The caller hung up while the answer was written: nobody is left to tell.
      outcome = "client-gone";
    } finally {
      if (!aborted) {
        exchange.close();
      }
      if (publicScheme != null && runtime.config().config().server().accessLog()) {
        // Public endpoints are part of the gateway's traffic (logins, discovery): logged like requests.
        AccessLog.write(new AccessLog.Entry(requestId, method, rawPath, exchange.getRequestURI().getRawQuery(),
            target == null ? null : target.plugin().name(), status, System.nanoTime() - start, -1, 0, 0,
            clientOf(runtime, exchange, requestHeaders).getHostAddress(), requestHeaders.first("User-Agent"), null,
            outcome));
      }
      runtime.release();
    }
  }

  private String logger() {
    return publicScheme == null ? "admin" : "proxy";
  }

  private InetAddress clientOf(GatewayRuntime runtime, HttpExchange exchange, Headers requestHeaders) {
    InetAddress peer = exchange.getRemoteAddress().getAddress();
    // No X-Forwarded-For is trusted on the admin listener; the public one honours server.trusted_proxies.
    return publicScheme == null ? peer : runtime.clientAddresses().client(peer, requestHeaders.all("X-Forwarded-For"));
  }

  private static Target findPublic(GatewayRuntime runtime, String rawPath) {
    FilterFactory.PublicTarget t = rawPath == null ? null : FilterFactory.findPublicEndpoint(runtime.filters(), rawPath);
    if (t == null) {
      return null;
    }
    String below = rawPath.substring(t.path().length());
    return new Target(t.plugin(), t.path(), t.endpoint()::handle, below.isEmpty() ? "/" : below);
  }

  /** Answers without calling a plugin. */
  private static void answerAndClose(HttpExchange exchange, String method, String requestId, Response response) {
    try (exchange) {
      send(exchange, method, requestId, response, null);
    } catch (IOException callerGone) {
      // Nobody is left to tell.
    }
  }

  /**
   * Whether a browser sent the call on behalf of a web page. A page on any site can make the
   * operator's browser POST a form to a loopback address (or reach it by DNS rebinding), so POST
   * alone does not protect an endpoint that changes state; browsers mark such requests, and the
   * scripts and tools that call admin endpoints send neither field.
   */
  private static boolean fromWebPage(Headers headers) {
    String site = headers.first("Sec-Fetch-Site");
    return headers.contains("Origin") || (site != null && !site.equalsIgnoreCase("none"));
  }

  /** @return the endpoint at {@code /plugins/<plugin>/<name>} in {@code runtime}, or {@code null} */
  private static Target findAdmin(GatewayRuntime runtime, String rawPath) {
    String rest = rawPath.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash <= 0 || slash == rest.length() - 1 || rest.indexOf('/', slash + 1) >= 0) {
      return null;
    }
    String pluginName = rest.substring(0, slash);
    String name = rest.substring(slash + 1);
    for (ActiveFilter f : runtime.filters()) {
      if (f.name().equals(pluginName)) {
        AdminEndpoint endpoint = f.adminEndpoints().get(name);
        if (endpoint != null) {
          return new Target(f, name, endpoint::handle, "/" + name);
        }
      }
    }
    return null;
  }

  private static Response notFound(GatewayRuntime runtime, String rawPath) {
    java.util.Set<String> paths = new java.util.LinkedHashSet<>(); // a plugin configured per route has several filters
    for (ActiveFilter f : runtime.filters()) {
      for (String name : f.adminEndpoints().keySet()) {
        paths.add(PREFIX + f.name() + "/" + name);
      }
    }
    // Like the admin listener's own 404, it says what is there: endpoint names are not secrets.
    return Problem.of(404, "unknown-admin-endpoint", "Not Found",
        "No enabled plugin serves an admin endpoint at " + rawPath + ".",
        paths.isEmpty() ? "The enabled plugins add no admin endpoints."
            : "Admin endpoints of the enabled plugins: " + String.join(", ", paths) + ".").toResponse();
  }

  /** Reads the body, calls the endpoint under the plugin's class loader, and maps its failures. */
  private Response call(Target target, HttpExchange exchange, String method, String rawPath,
      Headers requestHeaders, String requestId, GatewayRuntime runtime) {
    String pluginName = target.plugin().name();
    Body body;
    try {
      body = readBody(exchange, requestHeaders);
    } catch (ProblemException refused) {
      return refused.toResponse();
    } catch (IOException clientGone) {
      // Nobody is left to read an answer; one is written anyway, and fails quietly.
      return Problem.of(400, "request-body-failed", "Bad Request", "Reading the request body failed.", null)
          .toResponse();
    }
    Request request = Request.builder()
        .method(method)
        .scheme(publicScheme == null ? "http" : publicScheme)
        .host(requestHeaders.first("Host"))
        .baseUrl(publicScheme == null ? null : runtime.config().config().server().publicUrl())
        .path(rawPath)
        .route(pluginName)
        .upstreamPath(target.upstreamPath())
        .rawQuery(exchange.getRequestURI().getRawQuery())
        .headers(requestHeaders)
        .body(body)
        .clientAddress(clientOf(runtime, exchange, requestHeaders))
        .requestId(requestId)
        .build();
    ClassLoader previous = ContextClassLoader.enter(target.plugin().loader());
    try {
      Response response = target.endpoint().handle(request);
      if (response == null) {
        throw new IllegalStateException("plugin '" + pluginName + "' returned no response from endpoint '"
            + target.name() + "'");
      }
      return response;
    } catch (ProblemException e) {
      if (e.problem().status() >= 500) {
        JsonLog.warn(logger(), e.problem().detail(), "plugin", pluginName, "endpoint", target.name(),
            "request_id", requestId, "problem", e.problem().type(), "error", e.getCause());
      }
      return e.toResponse();
    } catch (IOException | RuntimeException | LinkageError e) {
      JsonLog.error(logger(), "a plugin's endpoint failed", "plugin", pluginName, "endpoint", target.name(),
          "request_id", requestId, "error", e);
      return Problem.of(500, "internal-error", "Internal Server Error",
          "Plugin '" + pluginName + "' failed to handle the call.",
          "See the gateway log for request id " + requestId + ".").toResponse();
    } finally {
      ContextClassLoader.restore(previous);
    }
  }

  /** @throws ProblemException 413 when the body is longer than {@link #MAX_BODY_BYTES} */
  private static Body readBody(HttpExchange exchange, Headers requestHeaders) throws IOException {
    String declared = requestHeaders.first("Content-Length");
    if (declared != null && !requestHeaders.contains("Transfer-Encoding")) {
      long n;
      try {
        n = Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        n = -1; // the server refuses most bad framing itself; reading tells the truth either way
      }
      if (n == 0) {
        return Body.empty();
      }
      if (n > MAX_BODY_BYTES) {
        // Past the discard limit the connection is reset anyway: no use reading that much.
        throw tooLarge(n <= MAX_BODY_BYTES + DISCARD_BYTES ? exchange.getRequestBody() : null);
      }
    }
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        throw tooLarge(in);
      }
      return bytes.length == 0 ? Body.empty() : Body.of(bytes);
    }
  }

  /** @param unread the rest of the body, read and thrown away up to {@link #DISCARD_BYTES}; or {@code null} */
  private static ProblemException tooLarge(InputStream unread) {
    if (unread != null) {
      byte[] buf = new byte[16 * 1024];
      long left = DISCARD_BYTES;
      try {
        for (int n; left > 0 && (n = unread.read(buf, 0, (int) Math.min(buf.length, left))) >= 0; ) {
          left -= n;
        }
      } catch (IOException e) {
        // The caller hung up; the 413 is written anyway and fails quietly.
      }
    }
    return new ProblemException(Problem.of(413, "body-too-large", "Content Too Large",
        "The body is larger than the limit of " + MAX_BODY_BYTES + " bytes.",
        "Plugin endpoints take bodies of at most 1 MiB; send a smaller one."));
  }

  /**
   * Writes the response: head, then body, read under the plugin's class loader when the plugin
   * made it ({@code target} not {@code null}), since reading it may run the plugin's code.
   *
   * @throws PluginBodyException when reading the plugin's body failed after the head was sent
   * @throws IOException when writing to the caller failed (it hung up)
   */
  private static void send(HttpExchange exchange, String method, String requestId, Response response, Target target)
      throws IOException {
    ClassLoader loader = target == null ? PluginEndpoints.class.getClassLoader() : target.plugin().loader();
    String pluginName = target == null ? null : target.plugin().name();
    Body body = response.body();
    boolean opened = false;
    try {
      Headers.Builder h = HopByHop.strip(response.headers()).toBuilder();
      // The server writes its own framing and Date.
      h.remove("Content-Length");
      h.remove("Date");
      h.set("X-Request-Id", requestId);
      Headers headers = h.build();
      for (int i = 0; i < headers.size(); i++) {
        exchange.getResponseHeaders().add(headers.name(i), headers.value(i));
      }
      int status = response.status();
      boolean bodiless = "HEAD".equals(method) || status == 204 || status == 304 || status < 200;
      long length = bodiless || body.length() == 0 ? -1 : body.length() < 0 ? 0 : body.length();
      exchange.sendResponseHeaders(status, length);
      if (length == -1) {
        return;
      }
      InputStream in;
      ClassLoader previous = ContextClassLoader.enter(loader);
      try {
        opened = true;
        in = body.open();
      } catch (IOException | RuntimeException | LinkageError e) {
        throw new PluginBodyException(pluginName, e);
      } finally {
        ContextClassLoader.restore(previous);
      }
      copy(in, exchange.getResponseBody(), loader, pluginName);
    } finally {
      if (!opened) {
        ClassLoader previous = ContextClassLoader.enter(loader);
        try {
          body.discard();
        } finally {
          ContextClassLoader.restore(previous);
        }
      }
    }
  }

  /** Copies and closes {@code in}, flushing whenever it has nothing more buffered, so a stream streams. */
  private static void copy(InputStream in, OutputStream out, ClassLoader loader, String pluginName) throws IOException {
    byte[] buf = new byte[16 * 1024];
    try {
      while (true) {
        int n;
        int available;
        ClassLoader previous = ContextClassLoader.enter(loader);
        try {
          n = in.read(buf);
          available = n < 0 ? 0 : in.available();
        } catch (IOException | RuntimeException | LinkageError e) {
          throw new PluginBodyException(pluginName, e);
        } finally {
          ContextClassLoader.restore(previous);
        }
        if (n < 0) {
          return;
        }
        out.write(buf, 0, n);
        if (available <= 0) {
          out.flush();
        }
      }
    } finally {
      ClassLoader previous = ContextClassLoader.enter(loader);
      try {
        in.close();
      } catch (IOException | RuntimeException e) {
        // The copy is over either way; a failed close leaves nothing to answer.
      } finally {
        ContextClassLoader.restore(previous);
      }
    }
  }

  /** Reading a response body the plugin produced failed: the caller's answer is cut short. */
  private static final class PluginBodyException extends IOException {
    private final String plugin;

    PluginBodyException(String plugin, Throwable cause) {
      super(cause.getMessage(), cause);
      this.plugin = plugin;
    }
  }
}
