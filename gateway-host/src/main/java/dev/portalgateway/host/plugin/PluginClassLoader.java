package dev.portalgateway.host.plugin;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Enumeration;

/**
 * The class loader of one plugin jar. It sees the JDK, the {@code dev.portalgateway.api} package
 * of the host, and its own jar: nothing else of the host (not its Jackson, not its Prometheus), so
 * plugins bring whatever library versions they like without colliding with the host or each other.
 * This is the arrangement Trino's {@code PluginClassLoader} has proved over hundreds of plugins.
 */
final class PluginClassLoader extends URLClassLoader {
  static final String API_PACKAGE = "dev.portalgateway.api.";

  private final ClassLoader hostLoader;

  PluginClassLoader(String jarName, URL jar, ClassLoader hostLoader) {
    // The platform loader as parent: JDK modules (java.*, javax.*, jdk.*) only.
    super("plugin:" + jarName, new URL[] {jar}, ClassLoader.getPlatformClassLoader());
    this.hostLoader = hostLoader;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (name.startsWith(API_PACKAGE)) {
      // One copy of the SPI for host and plugins, or the host could not call the plugin at all.
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

  private static boolean isApiResource(String name) {
    return name.startsWith("dev/portalgateway/api/") && !name.equals("dev/portalgateway/api/");
  }

}
