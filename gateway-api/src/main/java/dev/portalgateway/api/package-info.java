/**
 * The Portal Gateway plugin SPI.
 *
 * <p>A plugin is a jar in the gateway's {@code plugins/} directory that lists one or more
 * {@link dev.portalgateway.api.GatewayPlugin} implementations in
 * {@code META-INF/services/dev.portalgateway.api.GatewayPlugin}. The gateway enables a plugin when
 * its {@linkplain dev.portalgateway.api.GatewayPlugin#name() name} appears under {@code plugins:}
 * in the YAML configuration, asks it for a {@link dev.portalgateway.api.Filter}, and runs the
 * filters of all enabled plugins in {@linkplain dev.portalgateway.api.Phase phase} order in front
 * of the {@link dev.portalgateway.api.Connector} that reaches the upstream.
 *
 * <p>A plugin can also add commands to the gateway's command line ({@link
 * dev.portalgateway.api.PluginCommand}) and endpoints to its admin listener ({@link
 * dev.portalgateway.api.AdminEndpoint}, added with {@link
 * dev.portalgateway.api.PluginContext#adminEndpoint}).
 *
 * <p>This package depends on the JDK alone, so a plugin can bring any library version it likes:
 * each plugin jar gets its own class loader that sees only the JDK and this package.
 *
 * <pre>{@code
 * public final class HeaderPlugin implements GatewayPlugin {
 *   record Settings(String header, String value) {}
 *   public String name() { return "example-header"; }
 *   public Phase phase() { return Phase.DELIVER; }
 *   public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
 *     Settings s = config.bind(Settings.class);
 *     return (request, chain) -> chain.proceed(request).withHeader(s.header(), s.value());
 *   }
 * }
 * }</pre>
 */
package dev.portalgateway.api;
