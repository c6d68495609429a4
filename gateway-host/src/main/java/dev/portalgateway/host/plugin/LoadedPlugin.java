package dev.portalgateway.host.plugin;

import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Phase;
import java.nio.file.Path;

/**
 * A plugin found in a jar, ready to create filters.
 *
 * @param name the name YAML enables it by
 * @param phase where its filter runs
 * @param jar the jar it came from
 * @param plugin the instance
 * @param loader the jar's class loader, set as context class loader around every call into it
 */
public record LoadedPlugin(String name, Phase phase, Path jar, GatewayPlugin plugin, ClassLoader loader) {}
