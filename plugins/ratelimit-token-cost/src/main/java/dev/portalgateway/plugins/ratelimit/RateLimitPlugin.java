package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayApi;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.InvalidConfigException;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PluginConfig;
import dev.portalgateway.api.PluginContext;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ratelimit-token-cost}: request-rate limits (token buckets per principal, client address,
 * lease and globally) and AI budgets in tokens and money, counted in this process or in Redis
 * shared by every replica. See docs/plugins/ratelimit-token-cost.md.
 */
public final class RateLimitPlugin implements GatewayPlugin {
  /** The name that enables the plugin. */
  public static final String NAME = "ratelimit-token-cost";

  // Outlives configuration reloads: buckets and budgets keep counting across them.
  private final SharedStore stores = new SharedStore();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Phase phase() {
    return Phase.LIMIT;
  }

  @Override
  public String apiVersion() {
    return GatewayApi.VERSION; // compiled in: the API this jar was built against
  }

  @Override
  public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
    RateLimitSettings settings = RateLimitSettings.from(config);
    boolean redis = settings.store().equals("redis");
    SharedStore.Lease lease = stores.acquire(redis ? settings.redis() : "local",
        () -> redis ? new RedisLimitStore(settings.redis()) : new LocalLimitStore(context.clock()));
    Telemetry telemetry = new Telemetry(context);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("store", settings.store());
    if (redis) {
      fields.put("redis", RedisSettings.redacted(settings.redis().url()));
    }
    fields.put("on_store_failure", settings.onStoreFailure());
    fields.put("budgets", settings.hasBudgets());
    context.event(Level.INFO, "rate limits active", fields);
    if (redis) {
      try {
        lease.get().used("startup-check", java.time.Duration.ofMinutes(1));
      } catch (StoreUnavailableException e) {
        telemetry.storeFailure("startup", e);
      }
    }
    scheduleRemainingGauges(settings, context, lease, telemetry);
    return new RateLimitFilter(settings, lease, telemetry);
  }

  /** Keeps {@code budget_remaining} current for the principals an operator asked to watch. */
  private static void scheduleRemainingGauges(RateLimitSettings settings, PluginContext context, SharedStore.Lease lease,
      Telemetry telemetry) {
    if (settings.reportPrincipals().isEmpty()) {
      return;
    }
    BudgetLedger ledger = new BudgetLedger(settings);
    context.scheduler().scheduleWithFixedDelay(() -> {
      for (String principal : settings.reportPrincipals()) {
        for (RateLimitSettings.Window w : ledger.principalWindows(principal)) {
          try {
            long used = lease.get().used(BudgetLedger.principalKey(principal, w), w.length());
            long left = Math.max(0, w.limit() - used);
            telemetry.remaining(principal, w.unit() + "_per_" + w.name(),
                w.unit().equals("cost") ? Pricing.fromMicros(left) : left);
          } catch (StoreUnavailableException e) {
            telemetry.storeFailure("used", e);
          }
        }
      }
    }, 0, 5, TimeUnit.SECONDS);
  }
}
