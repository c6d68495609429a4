package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code PluginContext.routes()}: the current generation's connectors, for plugin work that
 * outlives a request. The generation stays open until the response body is closed or discarded,
 * so a reload cannot close a connector under a delivery in progress.
 */
final class CurrentRoutes implements Connector {
  private volatile RuntimeHolder holder;

  void bind(RuntimeHolder runtimes) {
    this.holder = runtimes;
  }

  @Override
  public Response send(Request request) throws IOException {
    RuntimeHolder h = holder;
    if (h == null) {
      throw new IllegalStateException("the gateway is not serving; routes() works only in a running gateway");
    }
    GatewayRuntime runtime = h.acquire();
    Response response;
    try {
      response = runtime.routes().connectorFor(request.route()).send(request);
    } catch (IOException | RuntimeException e) {
      runtime.release();
      throw e;
    }
    if (response.body().isReplayable()) {
      runtime.release(); // an empty or in-memory body holds no connection: nothing to wait for
      return response;
    }
    return response.withBody(new ReleasingBody(response.body(), runtime));
  }

  /** Releases the generation exactly once, when the body is closed or discarded. */
  private static final class ReleasingBody implements Body {
    private final Body body;
    private final GatewayRuntime runtime;
    private final AtomicBoolean released = new AtomicBoolean();

    ReleasingBody(Body body, GatewayRuntime runtime) {
      this.body = body;
      this.runtime = runtime;
    }

    private void release() {
      if (released.compareAndSet(false, true)) {
        runtime.release();
      }
    }

    @Override
    public long length() {
      return body.length();
    }

    @Override
    public boolean isReplayable() {
      return body.isReplayable();
    }

    @Override
    public InputStream open() throws IOException {
      return new FilterInputStream(body.open()) {
        @Override
        public void close() throws IOException {
          try {
            super.close();
          } finally {
            release();
          }
        }
      };
    }

    @Override
    public void discard() {
      try {
        body.discard();
      } finally {
        release();
      }
    }
  }
}
