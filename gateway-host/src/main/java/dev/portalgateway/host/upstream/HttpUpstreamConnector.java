package dev.portalgateway.host.upstream;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.BodyTooLargeException;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.proxy.HopByHop;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The {@code http} connector: forwards to one configured plain-HTTP upstream with the JDK
 * {@link HttpClient} (HTTP/1.1, pooled keep-alive connections, streaming both ways).
 */
public final class HttpUpstreamConnector implements Connector {
  /** Fields the JDK client sets itself and refuses from callers. */
  private static final Set<String> CLIENT_MANAGED = Set.of("host", "content-length", "expect", "connection", "upgrade");

  private final String name;
  private final String baseUrl;
  private final Duration responseTimeout;
  private final ExecutorService executor;
  private final HttpClient client;

  /**
   * @param name the upstream's name, for messages
   * @param baseUrl its base URL, without a trailing slash
   * @param connectTimeout how long to wait for a TCP connection
   * @param responseTimeout how long to wait for the response head
   */
  public HttpUpstreamConnector(String name, String baseUrl, Duration connectTimeout, Duration responseTimeout) {
    this.name = name;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.responseTimeout = responseTimeout;
    this.executor = Executors.newVirtualThreadPerTaskExecutor();
    this.client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(connectTimeout)
        .executor(executor)
        .build();
  }

  @Override
  public Response send(Request request) throws IOException {
    URI uri;
    try {
      uri = URI.create(baseUrl + request.target());
    } catch (IllegalArgumentException e) {
      throw new ProblemException(Problem.of(400, "bad-request-target", "Bad Request",
          "The request path or query is not a valid URI.", "Percent-encode characters such as spaces, '{' and '|'."));
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(responseTimeout);
    Headers headers = request.headers();
    for (int i = 0; i < headers.size(); i++) {
      String field = headers.name(i);
      if (!CLIENT_MANAGED.contains(field.toLowerCase(Locale.ROOT))) {
        b.header(field, headers.value(i));
      }
    }
    b.method(request.method(), publisher(request.body()));
    HttpResponse<InputStream> upstream;
    try {
      upstream = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for upstream " + name, e);
    } catch (IOException e) {
      throw translate(e);
    } catch (IllegalArgumentException e) {
      throw new ProblemException(Problem.of(400, "bad-request-header", "Bad Request",
          "The request carries a header the gateway cannot forward: " + e.getMessage(), null));
    }
    return Response.of(upstream.statusCode(), responseHeaders(upstream.headers()),
        Body.ofStream(upstream.body(), contentLength(request.method(), upstream)));
  }

  private static HttpRequest.BodyPublisher publisher(Body body) {
    long length = body.length();
    if (length == 0) {
      return HttpRequest.BodyPublishers.noBody();
    }
    HttpRequest.BodyPublisher stream = HttpRequest.BodyPublishers.ofInputStream(() -> {
      try {
        return body.open();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    return length < 0 ? stream : HttpRequest.BodyPublishers.fromPublisher(stream, length);
  }

  private static Headers responseHeaders(HttpHeaders upstream) {
    Headers.Builder b = Headers.builder();
    for (Map.Entry<String, List<String>> e : upstream.map().entrySet()) {
      if (e.getKey().startsWith(":")) {
        continue;
      }
      for (String v : e.getValue()) {
        b.add(e.getKey(), v);
      }
    }
    return HopByHop.strip(b.build());
  }

  private static long contentLength(String method, HttpResponse<?> r) {
    int status = r.statusCode();
    if ("HEAD".equals(method) || status == 204 || status == 304 || status < 200) {
      return 0;
    }
    return r.headers().firstValueAsLong("content-length").orElse(-1);
  }

  private ProblemException translate(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BodyTooLargeException tooLarge) {
        return tooLarge;
      }
    }
    if (e instanceof HttpConnectTimeoutException) {
      return failure(502, "upstream-connect-timeout", "Bad Gateway",
          "The gateway could not connect to upstream '" + name + "' in time.",
          "Check that the service at " + baseUrl + " is running and reachable from the gateway.", e);
    }
    if (e instanceof HttpTimeoutException) {
      return failure(504, "upstream-timeout", "Gateway Timeout",
          "Upstream '" + name + "' did not answer within " + responseTimeout.toSeconds() + " s.",
          "Raise proxy.response_timeout (or upstreams." + name + ".response_timeout) for slow services.", e);
    }
    if (e instanceof ConnectException || hasCause(e, UnresolvedAddressException.class)
        || hasCause(e, java.net.UnknownHostException.class)) {
      return failure(502, "upstream-unreachable", "Bad Gateway",
          "The gateway could not connect to upstream '" + name + "'.",
          "Check that the service at " + baseUrl + " is running and reachable from the gateway.", e);
    }
    return failure(502, "upstream-failed", "Bad Gateway",
        "The connection to upstream '" + name + "' failed before a complete response head arrived.",
        "Check the upstream service's logs.", e);
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static ProblemException failure(int status, String type, String title, String detail, String hint, Throwable cause) {
    return new ProblemException(Problem.of(status, type, title, detail, hint), Headers.empty(), cause);
  }

  @Override
  public void close() {
    client.shutdownNow();
    executor.shutdownNow();
  }
}
