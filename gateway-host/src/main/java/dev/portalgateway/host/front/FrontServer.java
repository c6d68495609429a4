package dev.portalgateway.host.front;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLServerSocket;

/**
 * The gateway's own implementation of the {@code com.sun.net.httpserver} API, its default front
 * door ({@code server.http_provider: portal}): strict HTTP/1.1 parsing, limits from the gateway's
 * configuration per instance, keep-alive for as many clients as {@code server.max_connections},
 * {@code TCP_NODELAY}, and connection upgrades. One virtual thread per connection, blocking I/O;
 * the host codes only against the API, so the JDK's and robaho's providers remain choices.
 * docs/architecture.md says why it exists.
 */
public final class FrontServer extends HttpsServer {
  private final FrontLimits limits;
  private final List<Context> contexts = new CopyOnWriteArrayList<>();
  private final Set<FrontConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private ServerSocket listener;
  private HttpsConfigurator tls;
  private Executor executor;
  private Thread acceptor;
  private volatile boolean stopping;

  /**
   * @param limits this server's limits
   * @param tls the TLS configuration for an HTTPS listener, or {@code null} for plain HTTP
   */
  public FrontServer(FrontLimits limits, HttpsConfigurator tls) {
    this.limits = limits;
    this.tls = tls;
  }

  /** Creates, binds and returns a server; {@link #start()} begins accepting. */
  public static FrontServer create(InetSocketAddress address, int backlog, FrontLimits limits, HttpsConfigurator tls)
      throws IOException {
    FrontServer server = new FrontServer(limits, tls);
    server.bind(address, backlog);
    return server;
  }

  @Override
  public synchronized void bind(InetSocketAddress addr, int backlog) throws IOException {
    if (listener != null) {
      throw new IllegalStateException("already bound");
    }
    ServerSocket s = tls == null ? new ServerSocket() : tls.getSSLContext().getServerSocketFactory().createServerSocket();
    try {
      s.setReuseAddress(true);
      s.bind(addr, backlog <= 0 ? 1024 : backlog);
      if (s instanceof SSLServerSocket ssl) {
        ssl.setSSLParameters(parameters(tls));
      }
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    listener = s;
  }

  /** The configurator's parameters (protocols, suites), as the JDK's HTTPS server asks for them. */
  private static javax.net.ssl.SSLParameters parameters(HttpsConfigurator tls) {
    javax.net.ssl.SSLParameters[] chosen = {tls.getSSLContext().getDefaultSSLParameters()};
    tls.configure(new com.sun.net.httpserver.HttpsParameters() {
      @Override
      public HttpsConfigurator getHttpsConfigurator() {
        return tls;
      }

      @Override
      public InetSocketAddress getClientAddress() {
        return null;
      }

      @Override
      public void setSSLParameters(javax.net.ssl.SSLParameters params) {
        chosen[0] = params;
      }
    });
    return chosen[0];
  }

  @Override
  public synchronized void start() {
    if (listener == null) {
      throw new IllegalStateException("not bound");
    }
    if (acceptor != null) {
      throw new IllegalStateException("already started");
    }
    acceptor = Thread.ofPlatform().daemon().name("front-accept-" + listener.getLocalPort()).start(this::acceptLoop);
  }

  private void acceptLoop() {
    while (!stopping) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException e) {
        if (stopping) {
          return;
        }
        continue; // a failed accept (out of file descriptors, say) must not end the server
      }
      FrontConnection connection = new FrontConnection(this, socket, limits);
      if (connections.size() >= limits.maxConnections()) {
        refused.incrementAndGet();
        Thread.ofVirtual().name("front-refuse").start(connection::refuseTooMany);
        continue;
      }
      connections.add(connection);
      Runnable run = connection;
      if (executor != null) {
        executor.execute(run);
      } else {
        Thread.ofVirtual().name("front-connection").start(run);
      }
    }
  }

  boolean stopping() {
    return stopping;
  }

  void connectionClosed(FrontConnection connection) {
    connections.remove(connection);
  }

  void countMalformed() {
    malformed.incrementAndGet();
  }

  /** @return client connections open now */
  public int openConnections() {
    return connections.size();
  }

  /** @return connections refused since start because {@code maxConnections} were open */
  public long refusedConnections() {
    return refused.get();
  }

  /** @return requests refused since start as malformed (400, 431, 505) before any handler saw them */
  public long malformedRequests() {
    return malformed.get();
  }

  /** @return the context with the longest path that {@code path} starts with, or {@code null} */
  HttpContext contextFor(String path) {
    Context best = null;
    for (Context c : contexts) {
      if (path.startsWith(c.path) && (best == null || c.path.length() > best.path.length())) {
        best = c;
      }
    }
    return best;
  }

  @Override
  public void setExecutor(Executor executor) {
    this.executor = executor;
  }

  @Override
  public Executor getExecutor() {
    return executor;
  }

  /**
   * Stops accepting and closes every connection; a request still running has its connection
   * closed under it (the gateway drains its requests before it calls this).
   */
  @Override
  public void stop(int delay) {
    stopping = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // Closed.
    }
    long deadline = System.currentTimeMillis() + Math.max(0, delay) * 1000L;
    while (System.currentTimeMillis() < deadline && connections.stream().anyMatch(FrontConnection::inExchange)) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    connections.forEach(FrontConnection::closeQuietly);
    if (acceptor != null) {
      try {
        acceptor.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public HttpContext createContext(String path, HttpHandler handler) {
    HttpContext c = createContext(path);
    c.setHandler(handler);
    return c;
  }

  @Override
  public HttpContext createContext(String path) {
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("a context path starts with /: " + path);
    }
    for (Context c : contexts) {
      if (c.path.equals(path)) {
        throw new IllegalArgumentException("a context exists for " + path);
      }
    }
    Context c = new Context(path);
    contexts.add(c);
    return c;
  }

  @Override
  public void removeContext(String path) {
    if (!contexts.removeIf(c -> c.path.equals(path))) {
      throw new IllegalArgumentException("no context for " + path);
    }
  }

  @Override
  public void removeContext(HttpContext context) {
    contexts.remove(context);
  }

  @Override
  public InetSocketAddress getAddress() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  @Override
  public void setHttpsConfigurator(HttpsConfigurator config) {
    if (listener != null) {
      throw new IllegalStateException("set the TLS configuration before binding: FrontServer.create(..., tls)");
    }
    this.tls = config;
  }

  @Override
  public HttpsConfigurator getHttpsConfigurator() {
    return tls;
  }

  /** A path's handler and filters. */
  private final class Context extends HttpContext {
    private final String path;
    private final List<Filter> filters = new CopyOnWriteArrayList<>();
    private final Map<String, Object> attributes = new HashMap<>();
    private volatile HttpHandler handler;
    private volatile Authenticator authenticator;

    Context(String path) {
      this.path = path;
    }

    @Override
    public HttpHandler getHandler() {
      return handler;
    }

    @Override
    public void setHandler(HttpHandler handler) {
      this.handler = handler;
    }

    @Override
    public String getPath() {
      return path;
    }

    @Override
    public HttpServer getServer() {
      return FrontServer.this;
    }

    @Override
    public Map<String, Object> getAttributes() {
      return attributes;
    }

    @Override
    public List<Filter> getFilters() {
      return filters;
    }

    @Override
    public Authenticator setAuthenticator(Authenticator auth) {
      Authenticator previous = authenticator;
      authenticator = auth;
      return previous;
    }

    @Override
    public Authenticator getAuthenticator() {
      return authenticator;
    }
  }

  @Override
  public String toString() {
    return "FrontServer[" + (listener == null ? "unbound" : getAddress()) + "]";
  }

}
