package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Budget;
import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Override;
import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Window;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Token and cost budgets per principal and per lease. A request reserves an estimate in every
 * window that applies before it goes on, so that concurrent requests cannot overshoot together;
 * when its response reports the real usage, each reservation is settled to it.
 */
final class BudgetLedger {
  /** One window's reservation. */
  record Reservation(String key, Window window, long windowStartMillis, long reserved) {}

  /**
   * What admitting one request did.
   *
   * @param reservations what was reserved, to settle later
   * @param refused the window that refused the request, or {@code null}
   * @param refusedResult the store's answer for that window
   */
  record Admission(List<Reservation> reservations, Reservation refused, BudgetResult refusedResult) {
    boolean allowed() {
      return refused == null;
    }

    /** @return the largest reservation of this unit ({@code tokens} or {@code cost}), 0 when none */
    long reserved(String unit) {
      long max = 0;
      for (Reservation r : reservations) {
        if (r.window().unit().equals(unit)) {
          max = Math.max(max, r.reserved());
        }
      }
      return max;
    }
  }

  private final List<Window> perPrincipal;
  private final List<Window> perLease;
  private final Map<String, List<Window>> principalOverrides;
  private final Map<String, List<Window>> leaseOverrides;

  BudgetLedger(RateLimitSettings settings) {
    this.perPrincipal = RateLimitSettings.windows(settings.budgets().perPrincipal());
    this.perLease = RateLimitSettings.windows(settings.budgets().perLease());
    this.principalOverrides = windowsOf(settings.overrides().principals());
    this.leaseOverrides = windowsOf(settings.overrides().leases());
  }

  private static Map<String, List<Window>> windowsOf(Map<String, Override> overrides) {
    Map<String, List<Window>> m = new java.util.HashMap<>();
    overrides.forEach((name, o) -> {
      Budget b = o.budget();
      if (b != null) {
        m.put(name, RateLimitSettings.windows(b));
      }
    });
    return Map.copyOf(m);
  }

  /** @return whether any window applies to this caller and lease */
  boolean applies(String principal, String lease) {
    return !principalWindows(principal).isEmpty() || !leaseWindows(lease).isEmpty();
  }

  /** @return the windows that apply to {@code principal} */
  List<Window> principalWindows(String principal) {
    return principalOverrides.getOrDefault(principal, perPrincipal);
  }

  private List<Window> leaseWindows(String lease) {
    return leaseOverrides.getOrDefault(lease, perLease);
  }

  /** @return the store key of a principal's window, for reservations and the remaining-budget gauges */
  static String principalKey(String principal, Window w) {
    return "budget:principal:" + principal + ":" + w.unit() + ":" + w.name();
  }

  /**
   * Reserves the estimate in every window of the caller and the lease. Money windows are skipped
   * when {@code freeModel}: a model priced at zero is never blocked by a money budget.
   *
   * @param tokens the estimated tokens, ≥ 1 so that a spent budget refuses even small requests
   * @param micros the estimated cost in micro-units
   */
  Admission reserve(LimitStore store, String principal, String lease, long tokens, long micros, boolean freeModel)
      throws StoreUnavailableException {
    List<Reservation> done = new ArrayList<>();
    List<Reservation> wanted = new ArrayList<>();
    for (Window w : principalWindows(principal)) {
      wanted.add(new Reservation(principalKey(principal, w), w, 0, 0));
    }
    for (Window w : leaseWindows(lease)) {
      wanted.add(new Reservation("budget:lease:" + lease + ":" + w.unit() + ":" + w.name(), w, 0, 0));
    }
    for (Reservation r : wanted) {
      boolean cost = r.window().unit().equals("cost");
      if (cost && freeModel) {
        continue;
      }
      // Never more than the whole window, so that one large request can still run on a fresh budget.
      long amount = Math.min(Math.max(1, cost ? micros : tokens), Math.max(1, r.window().limit()));
      BudgetResult result;
      try {
        result = store.reserve(r.key(), r.window().length(), r.window().limit(), amount);
      } catch (StoreUnavailableException e) {
        releaseQuietly(store, done);
        throw e;
      }
      if (!result.allowed()) {
        release(store, done); // a failure here is the store's failure to report, like the reserve's
        return new Admission(List.of(), r, result);
      }
      done.add(new Reservation(r.key(), r.window(), result.windowStartMillis(), amount));
    }
    return new Admission(List.copyOf(done), null, null);
  }

  /** Settles every reservation to the real usage: the difference is added or given back. */
  void settle(LimitStore store, Admission admission, long tokens, long micros) throws StoreUnavailableException {
    StoreUnavailableException failed = null;
    for (Reservation r : admission.reservations()) {
      long actual = r.window().unit().equals("cost") ? micros : tokens;
      long delta = actual - r.reserved();
      if (delta == 0) {
        continue;
      }
      try {
        store.settle(r.key(), r.window().length(), r.windowStartMillis(), delta);
      } catch (StoreUnavailableException e) {
        failed = e; // settle the others anyway
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  private static void releaseQuietly(LimitStore store, List<Reservation> reservations) {
    try {
      release(store, reservations);
    } catch (StoreUnavailableException e) {
      // The store is already failing this request; the caller reports that failure.
    }
  }

  /**
   * Gives back what a request reserved, when it never reached the upstream.
   *
   * @throws StoreUnavailableException when a reservation could not be given back; it stays
   *     counted until its window ends, the safe side of a budget
   */
  void release(LimitStore store, Admission admission) throws StoreUnavailableException {
    release(store, admission.reservations());
  }

  private static void release(LimitStore store, List<Reservation> reservations) throws StoreUnavailableException {
    StoreUnavailableException failed = null;
    for (Reservation r : reservations) {
      try {
        store.settle(r.key(), r.window().length(), r.windowStartMillis(), -r.reserved());
      } catch (StoreUnavailableException e) {
        failed = e; // give back the others anyway
      }
    }
    if (failed != null) {
      throw failed;
    }
  }
}
