package probe;

import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;

/** A plugin that says it was built against an API newer than any gateway has. */
public final class FuturePlugin implements GatewayPlugin {
  @Override
  public String name() {
    return "future";
  }

  @Override
  public Phase phase() {
    return Phase.DELIVER;
  }

  @Override
  public String apiVersion() {
    return "0.99";
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) {
    return (request, chain) -> chain.proceed(request);
  }
}
