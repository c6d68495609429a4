package dev.portalgateway.host.plugin;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Enumeration;

/**
 * The class loader of one plugin jar. It sees the JDK, the {@code dev.portalgateway.api} package
 * of the host, the platform layer (the host's Jackson, with YAML, and Caffeine) and its own jar:
 * nothing else of the host (not its Prometheus, not its HTTP server), so plugins bring whatever
 * other library versions they like without colliding with the host or each other. This is the
 * arrangement Trino's {@code PluginClassLoader} has proved over hundreds of plugins.
 *
 * <p>The platform layer is shared rather than bundled because nearly every plugin needs those
 * libraries, and because the host binds a plugin's configuration with Jackson: with one copy, the
 * Jackson annotations on a plugin's settings record are the ones the binder reads. A copy of these
 * packages inside a plugin jar is never used.
 */
final class PluginClassLoader extends URLClassLoader {
  static final String API_PACKAGE = "dev.portalgateway.api.";
  /** The platform layer's packages, loaded from the host; versions in the parent pom, listed in docs. */
  static final java.util.List<String> PLATFORM_PACKAGES = java.util.List.of(
      "com.fasterxml.jackson.", "org.yaml.snakeyaml.", "com.github.benmanes.caffeine.");

  private final ClassLoader hostLoader;

  PluginClassLoader(String jarName, URL jar, ClassLoader hostLoader) {
    // The platform loader as parent: JDK modules (java.*, javax.*, jdk.*) only.
    super("plugin:" + jarName, new URL[] {jar}, ClassLoader.getPlatformClassLoader());
    this.hostLoader = hostLoader;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (name.startsWith(API_PACKAGE) || isPlatformClass(name)) {
      // One copy of the SPI for host and plugins, or the host could not call the plugin at all;
      // one copy of the platform layer, so configuration binding sees the plugin's annotations.
      return hostLoader.loadClass(name);
    }
    return super.loadClass(name, resolve);
  }

  @Override
  public URL getResource(String name) {
    if (isApiResource(name)) {
      return hostLoader.getResource(name);
    }
    return super.getResource(name);
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    if (isApiResource(name)) {
      return hostLoader.getResources(name);
    }
    // Parent first is the platform loader, which holds no META-INF/services of the host's
    // libraries: ServiceLoader inside the plugin finds only the plugin's own providers.
    return super.getResources(name);
  }

  private static boolean isPlatformClass(String name) {
    for (String p : PLATFORM_PACKAGES) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isApiResource(String name) {
    if (name.startsWith("dev/portalgateway/api/") && !name.equals("dev/portalgateway/api/")) {
      return true;
    }
    for (String p : PLATFORM_PACKAGES) {
      if (name.startsWith(p.replace('.', '/'))) {
        return true;
      }
    }
    return false;
  }

}
