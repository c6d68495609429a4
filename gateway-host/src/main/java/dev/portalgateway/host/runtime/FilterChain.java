package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Attribute;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.plugin.ContextClassLoader;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The filters of one generation in phase order, ending in the route's connector.
 *
 * <p>The links are built once: a request walks a fixed array of {@link Chain}s and allocates
 * nothing for the chain itself. Each link sets the thread context class loader to the plugin's
 * loader around the call into it, and a response body a plugin produced or wrapped is read under
 * that loader too, since reading it runs the plugin's code.
 */
public final class FilterChain {
  /** Host-private: what the connector saw of this exchange, for metrics and the access log. */
  public static final Attribute<ExchangeRecord> EXCHANGE_RECORD = Attribute.of("host.exchange-record", ExchangeRecord.class);

  private final Chain head;

  FilterChain(List<ActiveFilter> filters, RouteTable routes) {
    ClassLoader hostLoader = FilterChain.class.getClassLoader();
    Chain next = request -> {
      ClassLoader previous = ContextClassLoader.enter(hostLoader);
      ExchangeRecord record = request.attribute(EXCHANGE_RECORD);
      if (record != null) {
        record.sawPrincipal(request.attribute(StandardAttributes.PRINCIPAL));
      }
      var connector = routes.connectorFor(request.route()); // an unknown name is not upstream time
      long start = System.nanoTime();
      try {
        return connector.send(request);
      } finally {
        if (record != null) {
          record.connectorCalled(System.nanoTime() - start);
        }
        ContextClassLoader.restore(previous);
      }
    };
    for (int i = filters.size() - 1; i >= 0; i--) {
      next = link(filters.get(i), next);
    }
    this.head = next;
  }

  private static Chain link(ActiveFilter f, Chain downstream) {
    return request -> {
      ExchangeRecord record = request.attribute(EXCHANGE_RECORD);
      if (record != null) {
        // Whoever an earlier filter authenticated is logged even if this filter answers (a 429).
        record.sawPrincipal(request.attribute(StandardAttributes.PRINCIPAL));
      }
      ClassLoader previous = ContextClassLoader.enter(f.loader());
      try {
        Body[] fromDownstream = new Body[1];
        Response response = f.filter().handle(request, r -> {
          Response inner = downstream.proceed(r);
          fromDownstream[0] = inner.body();
          return inner;
        });
        if (response == null) {
          throw new IllegalStateException("plugin '" + f.name() + "' returned no response");
        }
        return response.body() == fromDownstream[0] ? response
            : response.withBody(new ContextBody(response.body(), f.loader()));
      } finally {
        ContextClassLoader.restore(previous);
      }
    };
  }

  /** Runs the request through every filter and the connector. */
  public Response proceed(Request request) throws IOException {
    return head.proceed(request);
  }

  /** A plugin's body, opened and read with the plugin's class loader as context loader. */
  private record ContextBody(Body body, ClassLoader loader) implements Body {
    @Override
    public long length() {
      return body.length();
    }

    @Override
    public boolean isReplayable() {
      return body.isReplayable();
    }

    @Override
    public void discard() {
      ClassLoader previous = ContextClassLoader.enter(loader);
      try {
        body.discard();
      } finally {
        ContextClassLoader.restore(previous);
      }
    }

    @Override
    public InputStream open() throws IOException {
      ClassLoader previous = ContextClassLoader.enter(loader);
      try {
        InputStream in = body.open();
        return new InputStream() {
          @Override
          public int read() throws IOException {
            ClassLoader p = ContextClassLoader.enter(loader);
            try {
              return in.read();
            } finally {
              ContextClassLoader.restore(p);
            }
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            ClassLoader p = ContextClassLoader.enter(loader);
            try {
              return in.read(b, off, len);
            } finally {
              ContextClassLoader.restore(p);
            }
          }

          @Override
          public int available() throws IOException {
            return in.available();
          }

          @Override
          public void close() throws IOException {
            ClassLoader p = ContextClassLoader.enter(loader);
            try {
              in.close();
            } finally {
              ContextClassLoader.restore(p);
            }
          }
        };
      } finally {
        ContextClassLoader.restore(previous);
      }
    }
  }
}
