package dev.portalgateway.plugins.ratelimit;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The plugin's store, kept across configuration reloads so that a reload does not refill every
 * bucket or forget every budget. Filters lease it; a store whose settings changed is closed once
 * the last filter using it is closed.
 */
final class SharedStore {
  /** One filter's use of a store. */
  final class Lease {
    private final Entry entry;
    private boolean released;

    private Lease(Entry entry) {
      this.entry = entry;
    }

    LimitStore get() {
      return entry.store;
    }

    void release() {
      synchronized (SharedStore.this) {
        if (released) {
          return;
        }
        released = true;
        entry.users--;
        closeIfUnused(entry);
      }
    }
  }

  private static final class Entry {
    final Object settings;
    final LimitStore store;
    int users;

    Entry(Object settings, LimitStore store) {
      this.settings = settings;
      this.store = store;
    }
  }

  private Entry current;

  /**
   * @param settings what identifies the store (its kind and connection settings)
   * @param factory makes a new store when {@code settings} differ from the current one's
   * @return a lease on the store for {@code settings}
   */
  synchronized Lease acquire(Object settings, Supplier<LimitStore> factory) {
    if (current == null || !Objects.equals(current.settings, settings)) {
      Entry previous = current;
      current = new Entry(settings, factory.get());
      if (previous != null) {
        closeIfUnused(previous);
      }
    }
    current.users++;
    return new Lease(current);
  }

  private void closeIfUnused(Entry e) {
    if (e.users == 0 && e != current) {
      e.store.close();
    }
  }
}
