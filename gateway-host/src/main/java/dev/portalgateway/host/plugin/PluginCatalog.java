package dev.portalgateway.host.plugin;

import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import java.io.IOException;
import java.net.MalformedURLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every plugin in the plugins directory, by name. Built once at startup: adding or replacing a
 * jar takes a restart, while enabling, disabling and configuring plugins is a config reload.
 */
public final class PluginCatalog {
  private static final Pattern PLUGIN_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
  private static final Pattern API_VERSION = Pattern.compile("(\\d{1,4})\\.(\\d{1,4})");

  private final Path directory;
  private final Map<String, LoadedPlugin> plugins;

  private PluginCatalog(Path directory, Map<String, LoadedPlugin> plugins) {
    this.directory = directory;
    this.plugins = plugins;
  }

  /** @return a catalog with no plugins, for a gateway with no plugins directory */
  public static PluginCatalog empty(Path directory) {
    return new PluginCatalog(directory, Map.of());
  }

  /**
   * Loads every {@code *.jar} in {@code directory}, each in its own class loader.
   *
   * @param directory the plugins directory; a missing directory is an empty catalog
   * @return the catalog
   * @throws ConfigException naming the jar and the fix when a jar fails to load, a plugin's name is
   *     invalid, or two plugins share a name
   */
  public static PluginCatalog load(Path directory) throws ConfigException {
    if (!Files.isDirectory(directory)) {
      return empty(directory);
    }
    List<Path> jars;
    try (Stream<Path> files = Files.list(directory)) {
      jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
    } catch (IOException e) {
      throw new ConfigException("cannot list plugins directory " + directory + ": " + e.getMessage());
    }
    Map<String, LoadedPlugin> found = new TreeMap<>();
    ClassLoader hostLoader = GatewayPlugin.class.getClassLoader();
    for (Path jar : jars) {
      for (LoadedPlugin p : loadJar(jar, hostLoader)) {
        LoadedPlugin other = found.putIfAbsent(p.name(), p);
        if (other != null) {
          throw new ConfigException("two plugin jars provide the plugin '" + p.name() + "': "
              + other.jar() + " and " + p.jar() + "; remove one of them from " + directory);
        }
      }
    }
    PluginCatalog catalog = new PluginCatalog(directory, Collections.unmodifiableMap(found));
    JsonLog.info("plugins", "plugins found", "dir", directory.toString(), "plugins", String.join(",", found.keySet()));
    return catalog;
  }

  private static List<LoadedPlugin> loadJar(Path jar, ClassLoader hostLoader) throws ConfigException {
    String fix = "; fix or remove " + jar.getFileName() + " from " + jar.getParent();
    try (JarFile ignored = new JarFile(jar.toFile())) {
      // Opening it first turns a truncated or corrupt file into a clear message.
    } catch (IOException e) {
      throw new ConfigException("plugin jar " + jar + " is not a readable jar (" + e.getMessage() + ")" + fix);
    }
    PluginClassLoader loader;
    try {
      loader = new PluginClassLoader(jar.getFileName().toString(), jar.toUri().toURL(), hostLoader);
    } catch (MalformedURLException e) {
      throw new ConfigException("plugin jar " + jar + " has an unusable path" + fix);
    }
    List<LoadedPlugin> result = new ArrayList<>();
    ClassLoader previous = ContextClassLoader.enter(loader);
    try {
      for (GatewayPlugin plugin : ServiceLoader.load(GatewayPlugin.class, loader)) {
        if (plugin.getClass().getClassLoader() != loader) {
          continue; // provided by the host or another loader: not this jar's
        }
        String name = plugin.name();
        Phase phase = plugin.phase();
        if (name == null || !PLUGIN_NAME.matcher(name).matches()) {
          throw new ConfigException("plugin " + plugin.getClass().getName() + " in " + jar
              + " has the invalid name '" + name + "' (use lower-case letters, digits and dashes)" + fix);
        }
        if (phase == null) {
          throw new ConfigException("plugin '" + name + "' in " + jar + " returns no phase" + fix);
        }
        checkApiVersion(name, jar, plugin.apiVersion());
        result.add(new LoadedPlugin(name, phase, jar, plugin, loader));
      }
    } catch (ConfigException e) {
      closeQuietly(loader);
      throw e;
    } catch (ServiceConfigurationError | LinkageError e) {
      closeQuietly(loader);
      throw new ConfigException("plugin jar " + jar + " failed to load: " + rootMessage(e)
          + " (was it built against this gateway's gateway-api, with its dependencies inside?)" + fix);
    } catch (RuntimeException e) {
      closeQuietly(loader);
      throw new ConfigException("plugin jar " + jar + " failed to load: " + rootMessage(e) + fix);
    } finally {
      ContextClassLoader.restore(previous);
    }
    if (result.isEmpty()) {
      closeQuietly(loader);
      throw new ConfigException("plugin jar " + jar + " lists no plugin in META-INF/services/"
          + GatewayPlugin.class.getName() + fix);
    }
    return result;
  }

  /**
   * Refuses a plugin built against an API this host cannot serve: another major version, or a
   * newer minor one (it may call methods this host lacks, and would fail mid-request).
   */
  static void checkApiVersion(String name, Path jar, String declared) throws ConfigException {
    int[] host = parseVersion(GatewayApi.VERSION);
    int[] wanted = declared == null ? null : parseVersion(declared.strip());
    String which = "plugin '" + name + "' (" + jar.getFileName() + " in " + jar.getParent() + ")";
    if (wanted == null) {
      throw new ConfigException(which + " declares the API version '" + declared + "', which is not MAJOR.MINOR; "
          + "rebuild it returning GatewayApi.VERSION from apiVersion()");
    }
    if (wanted[0] != host[0] || wanted[1] > host[1]) {
      String fix = wanted[0] > host[0] || (wanted[0] == host[0] && wanted[1] > host[1])
          ? "upgrade the gateway to one with gateway-api " + declared.strip() + " or newer, or use a build of the plugin made for gateway-api " + GatewayApi.VERSION
          : "use a build of the plugin made for gateway-api " + host[0] + ".x, or remove it";
      throw new ConfigException(which + " was built against gateway-api " + declared.strip()
          + ", but this gateway serves gateway-api " + GatewayApi.VERSION + "; " + fix);
    }
  }

  private static int[] parseVersion(String v) {
    java.util.regex.Matcher m = API_VERSION.matcher(v);
    return m.matches() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : null;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t;
  }

  private static void closeQuietly(PluginClassLoader loader) {
    try {
      loader.close();
    } catch (IOException ignored) {
      // Nothing more to release.
    }
  }

  /** @return the plugins directory this catalog was read from */
  public Path directory() {
    return directory;
  }

  /**
   * @param name the plugin name from YAML
   * @return the plugin
   * @throws ConfigException listing the available names when there is none by that name
   */
  public LoadedPlugin require(String name) throws ConfigException {
    LoadedPlugin p = plugins.get(name);
    if (p == null) {
      String available = plugins.isEmpty() ? "none (the directory has no plugin jars)" : String.join(", ", plugins.keySet());
      throw new ConfigException("plugins." + name + ": no plugin named '" + name + "' in " + directory
          + "; plugins available: " + available
          + ". Put the plugin's jar in " + directory + " (or set server.plugins_dir), or fix the name");
    }
    return p;
  }

  /** @return every plugin, by name */
  public Collection<LoadedPlugin> all() {
    return plugins.values();
  }
}
