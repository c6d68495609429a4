package dev.portalgateway.plugins.ratelimit;

import java.time.Duration;

/**
 * What taking a token from a bucket did.
 *
 * @param allowed whether a token was taken
 * @param remaining whole tokens left after this request
 * @param limit the bucket's capacity (its burst)
 * @param reset how long until the bucket is full again
 * @param retryAfter when refused, how long until a token is there; zero when allowed
 */
record BucketResult(boolean allowed, long remaining, long limit, Duration reset, Duration retryAfter) {}
