package com.example.gateway.header;

import dev.portalgateway.api.CommandContext;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginCommand;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import dev.portalgateway.api.PluginMetrics;
import java.util.List;

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
  public String apiVersion() {
    return GatewayApi.VERSION; // compiled in: the API this jar was built against
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    Settings settings = settings(config);
    PluginMetrics.Counter added = context.metrics().counter("headers_added_total", "Responses the header was added to.");
    context.logger().log(System.Logger.Level.INFO, "adding header " + settings.header() + " to every response");
    return (request, chain) -> {
      var response = chain.proceed(request);
      added.inc();
      return response.withHeader(settings.header(), settings.value());
    };
  }

  /** A command line example: {@code java -jar portal-gateway.jar show-example-header --config FILE}. */
  @Override
  public List<PluginCommand> commands() {
    return List.of(new PluginCommand() {
      @Override
      public String name() {
        return "show-example-header";
      }

      @Override
      public String summary() {
        return "print the header the example plugin adds with this configuration";
      }

      @Override
      public String usage() {
        return "[--config FILE]";
      }

      @Override
      public int run(List<String> args, CommandContext context) throws InvalidConfigException {
        if (!args.isEmpty()) {
          context.err().println("show-example-header takes no arguments");
          return 2;
        }
        Settings settings = settings(context.config());
        context.out().println(settings.header() + ": " + settings.value());
        return 0;
      }
    });
  }

  private static Settings settings(PluginConfig config) throws InvalidConfigException {
    Settings settings = config.bind(Settings.class);
    if (settings.header() == null || settings.header().isBlank()) {
      throw new InvalidConfigException(config.path() + ".header: set the name of the header to add, such as X-Example");
    }
    if (settings.value() == null) {
      throw new InvalidConfigException(config.path() + ".value: set the value of the header");
    }
    return settings;
  }
}
