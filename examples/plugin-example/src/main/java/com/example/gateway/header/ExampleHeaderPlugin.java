package com.example.gateway.header;

import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;

/**
 * Adds one configured header to every proxied response:
 *
 * <pre>
 * plugins:
 *   example-header: { header: "X-Example", value: "hello" }
 * </pre>
 */
public final class ExampleHeaderPlugin implements GatewayPlugin {

  /** The plugin's settings; YAML keys map onto the components. */
  record Settings(String header, String value) {}

  @Override
  public String name() {
    return "example-header";
  }

  @Override
  public Phase phase() {
    return Phase.DELIVER;
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    Settings settings = config.bind(Settings.class);
    if (settings.header() == null || settings.header().isBlank()) {
      throw new InvalidConfigException(config.path() + ".header: set the name of the header to add, such as X-Example");
    }
    if (settings.value() == null) {
      throw new InvalidConfigException(config.path() + ".value: set the value of the header");
    }
    PluginMetrics.Counter added = context.metrics().counter("headers_added_total", "Responses the header was added to.");
    context.logger().log(System.Logger.Level.INFO, "adding header " + settings.header() + " to every response");
    return (request, chain) -> {
      var response = chain.proceed(request);
      added.inc();
      return response.withHeader(settings.header(), settings.value());
    };
  }
}
