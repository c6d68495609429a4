package dev.portalgateway.plugins.ratelimit;

/**
 * The tokens an AI response reports having used.
 *
 * @param model the model the response names, or {@code null}
 * @param inputTokens prompt / input tokens
 * @param outputTokens completion / output tokens
 */
record Usage(String model, long inputTokens, long outputTokens) {
  long totalTokens() {
    return inputTokens + outputTokens;
  }
}
