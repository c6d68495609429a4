package dev.portalgateway.host.plugin;

/**
 * Sets the thread context class loader around a call into a plugin. Libraries inside plugins
 * that look things up through it ({@code ServiceLoader.load(Class)}, JAXB, many JSON and logging
 * libraries) find the plugin's own classes only if it is set; Trino, Jenkins and Kafka Connect all
 * learned this. Use as {@code previous = enter(loader); try { ... } finally { restore(previous); }}.
 */
public final class ContextClassLoader {
  private ContextClassLoader() {}

  /**
   * @param loader the loader to make current
   * @return the loader it replaced, for {@link #restore}
   */
  public static ClassLoader enter(ClassLoader loader) {
    Thread t = Thread.currentThread();
    ClassLoader previous = t.getContextClassLoader();
    t.setContextClassLoader(loader);
    return previous;
  }

  /** @param previous what {@link #enter} returned */
  public static void restore(ClassLoader previous) {
    Thread.currentThread().setContextClassLoader(previous);
  }
}
