package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Attribute;
import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Completion;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.ActiveFilter;
import dev.portalgateway.host.plugin.ContextClassLoader;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The filters a route runs in one generation, in phase order, ending in the route's connector.
 *
 * <p>The links are built once: a request walks a fixed array of {@link Chain}s and allocates
 * nothing for the chain itself. Each link sets the thread context class loader to the plugin's
 * loader around the call into it, and a response body a plugin produced or wrapped is read under
 * that loader too, since reading it runs the plugin's code.
 *
 * <p>The route's {@link Authenticator}s form one link, at the place of the first of them: the
 * first that recognises the request's credential decides it; when none does, each is asked in
 * turn, and if all answer 401 the client gets one 401 carrying every challenge.
 */
public final class FilterChain {
  /** Host-private: what the connector saw of this exchange, for metrics and the access log. */
  public static final Attribute<ExchangeRecord> EXCHANGE_RECORD = Attribute.of("host.exchange-record", ExchangeRecord.class);

  private final Chain head;
  private final List<ActiveFilter> filters;
  /** The filters that override {@link dev.portalgateway.api.Filter#completed}, in chain order. */
  private final ActiveFilter[] observers;

  FilterChain(List<ActiveFilter> filters, RouteTable routes) {
    this.filters = List.copyOf(filters);
    this.observers = filters.stream().filter(ActiveFilter::observesCompletion).toArray(ActiveFilter[]::new);
    ClassLoader hostLoader = FilterChain.class.getClassLoader();
    Chain next = request -> {
      ClassLoader previous = ContextClassLoader.enter(hostLoader);
      ExchangeRecord record = request.attribute(EXCHANGE_RECORD);
      if (record != null) {
        record.passed(request);
      }
      var connector = routes.connectorFor(request.route()); // an unknown name is not upstream time
      long start = System.nanoTime();
      boolean failed = true;
      try {
        Response response = connector.send(request);
        failed = false;
        return routes.fromUpstream(request.route(), response);
      } finally {
        if (record != null) {
          record.connectorCalled(System.nanoTime() - start, failed);
        }
        ContextClassLoader.restore(previous);
      }
    };
    List<ActiveFilter> authenticators = filters.stream().filter(ActiveFilter::isAuthenticator).toList();
    for (int i = filters.size() - 1; i >= 0; i--) {
      ActiveFilter f = filters.get(i);
      if (!f.isAuthenticator()) {
        next = link(f, next);
      } else if (f == authenticators.get(0)) {
        next = authenticators.size() == 1 ? link(f, next) : authenticate(authenticators, next);
      }
    }
    this.head = next;
  }

  /** @return the filters of this chain, in order */
  public List<ActiveFilter> filters() {
    return filters;
  }

  /** @return whether a filter of this chain wants {@linkplain #complete completion reports} */
  public boolean observed() {
    return observers.length > 0;
  }

  /** Tells every observing filter how an exchange ended; what they throw is logged and dropped. */
  public void complete(Completion completion) {
    for (ActiveFilter f : observers) {
      ClassLoader previous = ContextClassLoader.enter(f.loader());
      try {
        f.filter().completed(completion);
      } catch (RuntimeException | LinkageError e) {
        JsonLog.warn("plugins", "a plugin failed on an exchange's completion", "plugin", f.name(),
            "request_id", completion.request().requestId(), "error", e);
      } finally {
        ContextClassLoader.restore(previous);
      }
    }
  }

  private static Chain link(ActiveFilter f, Chain downstream) {
    return request -> invoke(f, request, downstream);
  }

  private static Response invoke(ActiveFilter f, Request request, Chain downstream) throws IOException {
    ExchangeRecord record = request.attribute(EXCHANGE_RECORD);
    if (record != null) {
      // Whoever an earlier filter authenticated is logged even if this filter answers (a 429).
      record.passed(request);
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
  }

  /** The authenticators' shared link; see the class description for the rule. */
  private static Chain authenticate(List<ActiveFilter> authenticators, Chain downstream) {
    return request -> {
      for (ActiveFilter f : authenticators) {
        if (recognizes(f, request)) {
          return invoke(f, request, downstream);
        }
      }
      Response first = null;
      List<String> challenges = new ArrayList<>();
      for (ActiveFilter f : authenticators) {
        boolean[] passed = {false};
        Response r;
        try {
          r = invoke(f, request, next -> {
            passed[0] = true;
            return downstream.proceed(next);
          });
        } catch (ProblemException e) {
          if (passed[0] || e.problem().status() != 401) {
            if (first != null) {
              first.body().discard();
            }
            throw e;
          }
          r = e.toResponse(); // a thrown 401 is one of the 401s, as a returned one is
        }
        if (passed[0] || r.status() != 401) {
          if (first != null) {
            first.body().discard();
          }
          return r;
        }
        challenges.addAll(r.headers().all("WWW-Authenticate"));
        if (first == null) {
          first = r;
        } else {
          r.body().discard();
        }
      }
      Headers.Builder h = first.headers().toBuilder().remove("WWW-Authenticate");
      challenges.stream().distinct().forEach(c -> h.add("WWW-Authenticate", c));
      return first.withHeaders(h.build());
    };
  }

  private static boolean recognizes(ActiveFilter f, Request request) {
    ClassLoader previous = ContextClassLoader.enter(f.loader());
    try {
      return ((Authenticator) f.filter()).recognizes(request);
    } catch (RuntimeException | LinkageError e) {
      JsonLog.warn("plugins", "an authenticator failed to look at a request; treating its credential as not its own",
          "plugin", f.name(), "request_id", request.requestId(), "error", e);
      return false;
    } finally {
      ContextClassLoader.restore(previous);
    }
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
