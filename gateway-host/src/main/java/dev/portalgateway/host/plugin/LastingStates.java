package dev.portalgateway.host.plugin;

import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.LastingFactory;
import dev.portalgateway.host.ops.JsonLog;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Every plugin's lasting state ({@link dev.portalgateway.api.PluginContext#lasting}): created once
 * per plugin and class, kept across configuration generations, closed when the gateway stops,
 * after the last generation, newest first. One per gateway, held by the {@link FilterFactory}.
 */
final class LastingStates implements AutoCloseable {
  /** A created state, remembered in creation order for closing. */
  private record Entry(String plugin, Class<?> type, Object state, ClassLoader loader) {}

  private final Map<String, Map<Class<?>, Object>> byPlugin = new HashMap<>();
  private final Map<String, HostPluginContext> lifetimeContexts = new HashMap<>();
  private final List<Entry> created = new ArrayList<>();
  private final BiFunction<LoadedPlugin, LastingStates, HostPluginContext> lifetimeContextFactory;
  private boolean closed;

  /**
   * @param lifetimeContextFactory makes a plugin's lifetime context, whose scheduler lasts until
   *     {@link #close}, given the plugin and these states (for lasting state that asks for more)
   */
  LastingStates(BiFunction<LoadedPlugin, LastingStates, HostPluginContext> lifetimeContextFactory) {
    this.lifetimeContextFactory = lifetimeContextFactory;
  }

  // Synchronized as a whole: generations are built one at a time, and a factory that opens a
  // database may take a while; nobody else waits on this lock on the request path.
  synchronized <T> T get(LoadedPlugin plugin, Class<T> type, LastingFactory<T> factory) throws InvalidConfigException {
    if (closed) {
      throw new IllegalStateException("the gateway is stopping; no lasting state is created any more");
    }
    Map<Class<?>, Object> states = byPlugin.computeIfAbsent(plugin.name(), k -> new HashMap<>());
    Object existing = states.get(type);
    if (existing != null) {
      return type.cast(existing);
    }
    HostPluginContext lifetime = lifetimeContexts.computeIfAbsent(plugin.name(), k -> lifetimeContextFactory.apply(plugin, this));
    T state;
    ClassLoader previous = ContextClassLoader.enter(plugin.loader());
    try {
      state = factory.create(lifetime);
    } catch (InvalidConfigException e) {
      throw e;
    } catch (Exception e) {
      throw new InvalidConfigException("creating the plugin's lasting " + type.getSimpleName() + " failed: "
          + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
    } finally {
      ContextClassLoader.restore(previous);
    }
    if (state == null || !type.isInstance(state)) {
      throw new IllegalStateException("plugin '" + plugin.name() + "': the factory of lasting " + type.getName()
          + " returned " + (state == null ? "null" : "a " + state.getClass().getName()));
    }
    states.put(type, state);
    created.add(new Entry(plugin.name(), type, state, plugin.loader()));
    return state;
  }

  /** Closes every state, newest first, then the plugins' lifetime contexts (their schedulers). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = created.size() - 1; i >= 0; i--) {
      Entry e = created.get(i);
      if (e.state() instanceof AutoCloseable closeable) {
        ClassLoader previous = ContextClassLoader.enter(e.loader());
        try {
          closeable.close();
        } catch (Exception | LinkageError ex) {
          JsonLog.warn("plugins", "a plugin's lasting state failed to close", "plugin", e.plugin(),
              "state", e.type().getName(), "error", ex);
        } finally {
          ContextClassLoader.restore(previous);
        }
      }
    }
    lifetimeContexts.values().forEach(HostPluginContext::close);
    created.clear();
    byPlugin.clear();
  }
}
