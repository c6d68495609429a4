package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Override;
import dev.portalgateway.plugins.ratelimit.RateLimitSettings.Rate;
import java.util.Map;

/**
 * The request-rate buckets of one request: global, per lease, per principal and per client
 * address, with per-principal and per-lease overrides. Every configured bucket takes a token; the
 * first that has none refuses the request.
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
   * Takes a token from every bucket of the request, most specific first.
   *
   * @param principal the caller's identity ({@link Callers#principal})
   * @param clientBucket the caller's address bucket ({@link Callers#clientBucket})
   * @param lease the route
   */
  Decision check(LimitStore store, String principal, String clientBucket, String lease)
      throws StoreUnavailableException {
    BucketResult tightest = null;
    Rate principalRate = override(principalOverrides, principal, perPrincipal);
    Rate leaseRate = override(leaseOverrides, lease, perLease);
    String[] dimensions = {"principal", "client_ip", "lease", "global"};
    String[] keys = {"req:principal:" + principal, "req:ip:" + clientBucket, "req:lease:" + lease, "req:global"};
    Rate[] rates = {principalRate, perClientIp, leaseRate, global};
    for (int i = 0; i < dimensions.length; i++) {
      Rate rate = rates[i];
      if (rate == null) {
        continue;
      }
      BucketResult r = store.take(keys[i], rate.ratePerSecond(), rate.burst());
      if (!r.allowed()) {
        return new Decision(r, dimensions[i]);
      }
      if (tightest == null || r.remaining() < tightest.remaining()) {
        tightest = r;
      }
    }
    return new Decision(tightest, null);
  }

  private static Rate override(Map<String, Override> overrides, String name, Rate otherwise) {
    Override o = overrides.get(name);
    return o != null && o.requests() != null ? o.requests() : otherwise;
  }
}
