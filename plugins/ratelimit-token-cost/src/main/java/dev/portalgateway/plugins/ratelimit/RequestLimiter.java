package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Override;
import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Rate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The request-rate buckets of one request: global, per lease, per principal and per client
 * address, with per-principal and per-lease overrides. A request takes a token from every
 * configured bucket, or from none when one of them is empty: that one refuses it.
 */
final class RequestLimiter {
  /**
   * The outcome for one request.
   *
   * @param tightest the bucket with the fewest tokens left, for the RateLimit-* headers; {@code null}
   *     when no bucket applies
   * @param refusedBy the dimension that refused the request, or {@code null} when it may go on
   */
  record Decision(BucketResult tightest, String refusedBy) {
    boolean allowed() {
      return refusedBy == null;
    }
  }

  private final Rate global;
  private final Rate perClientIp;
  private final Rate perPrincipal;
  private final Rate perLease;
  private final Map<String, Override> principalOverrides;
  private final Map<String, Override> leaseOverrides;

  RequestLimiter(RateLimitSettings settings) {
    this.global = settings.requests().global();
    this.perClientIp = settings.requests().perClientIp();
    this.perPrincipal = settings.requests().perPrincipal();
    this.perLease = settings.requests().perLease();
    this.principalOverrides = settings.overrides().principals();
    this.leaseOverrides = settings.overrides().leases();
  }

  /** @return whether any bucket can apply, so that requests without one skip the store entirely */
  boolean isEmpty() {
    return global == null && perClientIp == null && perPrincipal == null && perLease == null
        && principalOverrides.values().stream().allMatch(o -> o.requests() == null)
        && leaseOverrides.values().stream().allMatch(o -> o.requests() == null);
  }

  /**
   * Takes a token from every bucket of the request, or, when one of them is empty, from none: a
   * request refused for its lease does not use up its principal's allowance. One store call, so
   * one round trip to a shared store.
   *
   * @param principal the caller's identity ({@link Callers#principal})
   * @param clientBucket the caller's address bucket ({@link Callers#clientBucket})
   * @param lease the route
   * @return refused, naming the first empty bucket's dimension (most specific first), or allowed
   *     with the bucket that has the fewest tokens left
   */
  Decision check(LimitStore store, String principal, String clientBucket, String lease)
      throws StoreUnavailableException {
    Rate principalRate = override(principalOverrides, principal, perPrincipal);
    Rate leaseRate = override(leaseOverrides, lease, perLease);
    List<String> dimensions = new ArrayList<>(4);
    List<RateBucket> buckets = new ArrayList<>(4);
    add(buckets, dimensions, "principal", principalRate, "req:principal:", principal);
    add(buckets, dimensions, "client_ip", perClientIp, "req:ip:", clientBucket);
    add(buckets, dimensions, "lease", leaseRate, "req:lease:", lease);
    add(buckets, dimensions, "global", global, "req:global", "");
    List<BucketResult> results = store.takeAll(buckets);
    BucketResult tightest = null;
    for (int i = 0; i < results.size(); i++) {
      BucketResult r = results.get(i);
      if (!r.allowed()) {
        return new Decision(r, dimensions.get(i));
      }
      if (tightest == null || r.remaining() < tightest.remaining()) {
        tightest = r;
      }
    }
    return new Decision(tightest, null);
  }

  private static void add(List<RateBucket> buckets, List<String> dimensions, String dimension, Rate rate,
      String keyPrefix, String name) {
    if (rate != null) {
      buckets.add(new RateBucket(keyPrefix + name, rate.ratePerSecond(), rate.burst()));
      dimensions.add(dimension);
    }
  }

  private static Rate override(Map<String, Override> overrides, String name, Rate otherwise) {
    Override o = overrides.get(name);
    return o != null && o.requests() != null ? o.requests() : otherwise;
  }
}
