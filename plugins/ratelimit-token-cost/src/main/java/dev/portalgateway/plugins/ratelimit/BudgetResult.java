package dev.portalgateway.plugins.ratelimit;

import java.time.Duration;

/**
 * What reserving part of a budget did.
 *
 * @param allowed whether the amount was reserved
 * @param used the window's counter after this call (unchanged when refused)
 * @param limit the window's limit
 * @param windowStartMillis the start of the window, epoch milliseconds, for {@link LimitStore#settle}
 * @param reset how long until this window ends
 */
record BudgetResult(boolean allowed, long used, long limit, long windowStartMillis, Duration reset) {}
