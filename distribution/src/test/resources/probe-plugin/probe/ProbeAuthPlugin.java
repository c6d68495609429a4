package probe;

import dev.portalgateway.api.Authenticator;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.Principal;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.api.StandardAttributes;
import java.io.IOException;
import java.util.Set;

/** A second authenticator: it reads "Authorization: Probe TOKEN" and takes the token "letmein". */
public final class ProbeAuthPlugin implements GatewayPlugin {
  @Override
  public String name() {
    return "probe-auth";
  }

  @Override
  public Phase phase() {
    return Phase.AUTHENTICATE;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION;
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) {
    return new Authenticator() {
      @Override
      public boolean recognizes(Request request) {
        String auth = request.headers().first("Authorization");
        return auth != null && auth.regionMatches(true, 0, "Probe ", 0, 6);
      }

      @Override
      public Response handle(Request request, Chain chain) throws IOException {
        String auth = request.headers().first("Authorization");
        if (auth != null && auth.substring(6).trim().equals("letmein")) {
          return chain.proceed(request.toBuilder()
              .headers(request.headers().toBuilder().remove("Authorization").set("X-Authenticated-By", "probe").build())
              .attribute(StandardAttributes.PRINCIPAL, new Principal("probe-user", null, "probe-auth", Set.of()))
              .build());
        }
        return Problem.of(401, "probe-refused", "Unauthorized", "No valid probe token.", null)
            .toResponse(Headers.of("WWW-Authenticate", "Probe realm=\"probe\""));
      }
    };
  }
}
