package dev.portalgateway.plugins.ratelimit;

import java.time.Duration;

/**
 * The checks of {@link LimitStore}'s arguments, shared by both stores so that they refuse the same
 * calls: a bad argument is a bug in the caller, not a store failure, so it is an
 * {@link IllegalArgumentException}, never a {@link StoreUnavailableException}.
 */
final class LimitArguments {
  private LimitArguments() {}

  static void checkBucket(double ratePerSecond, long burst) {
    if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
      throw new IllegalArgumentException("ratePerSecond must be a positive number: " + ratePerSecond);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be at least 1: " + burst);
    }
  }

  static void checkBudget(Duration window, long limit, long amount) {
    checkWindow(window);
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative: " + limit);
    }
    if (amount < 0) {
      throw new IllegalArgumentException("amount must not be negative: " + amount);
    }
  }

  /** Windows count whole milliseconds: both stores align them to the epoch in milliseconds. */
  static void checkWindow(Duration window) {
    if (window.toMillis() < 1 || window.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException("window must be a whole number of milliseconds, at least 1: " + window);
    }
  }
}
