package probe;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.portalgateway.api.Completion;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test plugin that uses the API additions: it counts completed exchanges by route and outcome
 * in lasting state, shows the count on an admin endpoint, and serves a public endpoint. Its
 * settings record carries a Jackson annotation, which the gateway's binder must honour.
 */
public final class ProbePlugin implements GatewayPlugin {
  /** How many tallies were ever made: lasting state is made once per gateway. */
  static final AtomicInteger TALLIES_MADE = new AtomicInteger();

  record Settings(@JsonProperty("greeting-text") String greeting) {}

  /** Outcomes by route, kept across configuration reloads. */
  static final class Tally {
    final int serial = TALLIES_MADE.incrementAndGet();
    final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    void add(Completion c) {
      counts.computeIfAbsent(c.route() + " " + c.outcome().label() + " " + c.status(), k -> new AtomicLong())
          .incrementAndGet();
    }

    String text() {
      StringBuilder b = new StringBuilder("tally " + serial + "\n");
      new TreeMap<>(counts).forEach((k, v) -> b.append(k).append(' ').append(v.get()).append('\n'));
      return b.toString();
    }
  }

  @Override
  public String name() {
    return "probe";
  }

  @Override
  public Phase phase() {
    return Phase.DELIVER;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION;
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    Settings settings = config.bind(Settings.class);
    Tally tally = context.lasting(Tally.class, lifetime -> new Tally());
    context.adminEndpoint("tally", request -> Response.text(200, "text/plain", tally.text()));
    context.publicEndpoint("/.well-known/probe", request -> Response.text(200, "text/plain",
        "greeting=" + settings.greeting() + " url=" + request.url() + " below=" + request.upstreamPath()
            + " prefix=" + context.routePrefix() + "\n"));
    return new Filter() {
      @Override
      public Response handle(Request request, dev.portalgateway.api.Chain chain) throws java.io.IOException {
        return chain.proceed(request);
      }

      @Override
      public void completed(Completion completion) {
        tally.add(completion);
      }
    };
  }
}
