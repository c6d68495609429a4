package dev.portalgateway.plugins.ratelimit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * The usage and model an AI response reports, gathered from its JSON body or from the JSON of its
 * server-sent events as they pass. It reads the shapes of both vendors:
 *
 * <ul>
 *   <li>OpenAI chat completions: {@code usage.prompt_tokens}, {@code usage.completion_tokens},
 *       {@code usage.total_tokens}, at the top level (the whole body, or the final chunk of a
 *       stream with {@code include_usage});
 *   <li>OpenAI Responses: {@code usage.input_tokens} / {@code usage.output_tokens}, at the top
 *       level or under {@code response} (the {@code response.completed} event);
 *   <li>Anthropic Messages: {@code usage.input_tokens} / {@code usage.output_tokens}, at the top
 *       level (the body, {@code message_delta}) or under {@code message} ({@code message_start}).
 * </ul>
 *
 * <p>Streams report usage more than once and cumulatively (Anthropic's {@code message_start} says
 * one output token, its {@code message_delta} the final count): output tokens are the last count
 * seen, input tokens the largest. Anthropic counts cached prompt tokens apart from
 * {@code input_tokens}; they are added in, so that input tokens mean the whole prompt for both
 * vendors, as OpenAI's {@code prompt_tokens} does. Not thread-safe.
 */
final class UsageTally {
  /** Shared and thread-safe once configured; the defaults read any JSON. */
  private static final ObjectMapper JSON = new ObjectMapper();

  private String model;
  private long input = -1;
  private long output = -1;
  private long total = -1;

  /**
   * @return the JSON in {@code bytes[off, off + len)}, or {@code null} when it is not JSON
   */
  static JsonNode parse(byte[] bytes, int off, int len) {
    try {
      return JSON.readTree(bytes, off, len);
    } catch (IOException | RuntimeException e) {
      return null; // not JSON, or beyond Jackson's limits: there is no usage to read in it
    }
  }

  /** @return the model a response named so far, or {@code null} */
  String model() {
    return model;
  }

  /** Takes the model and any usage from one JSON body or event. */
  void absorb(JsonNode root) {
    if (root == null || !root.isObject()) {
      return;
    }
    absorbFrom(root);
    absorbFrom(root.get("message")); // Anthropic message_start
    absorbFrom(root.get("response")); // OpenAI Responses events
  }

  /**
   * @param fallbackModel the model to name when the response named none (the request's)
   * @return the usage seen, or {@code null} when no token count was seen
   */
  Usage usage(String fallbackModel) {
    if (input < 0 && output < 0 && total < 0) {
      return null;
    }
    long in = input;
    long out = output;
    if (in < 0 && out < 0) {
      // Only a total: count it as output, the dearer kind for every priced model, so a budget
      // in money is not undercharged.
      in = 0;
      out = total;
    } else if (out < 0) {
      out = total < 0 ? 0 : Math.max(0, total - in);
    } else if (in < 0) {
      in = total < 0 ? 0 : Math.max(0, total - out);
    }
    return new Usage(model != null ? model : fallbackModel, in, out);
  }

  private void absorbFrom(JsonNode node) {
    if (node == null || !node.isObject()) {
      return;
    }
    JsonNode name = node.get("model");
    if (model == null && name != null && name.isTextual() && !name.asText().isEmpty()) {
      model = name.asText();
    }
    JsonNode usage = node.get("usage");
    if (usage == null || !usage.isObject()) {
      return; // absent, or "usage": null on every chunk but the last
    }
    // The two names are aliases (some compatible servers send both), so the larger, not the sum.
    long prompt = Math.max(count(usage, "prompt_tokens"), count(usage, "input_tokens"));
    if (prompt >= 0) {
      // Anthropic's cache counts are apart from input_tokens; OpenAI's are inside prompt_tokens
      // (under prompt_tokens_details), so only Anthropic's names are added.
      prompt = sum(prompt, count(usage, "cache_creation_input_tokens"));
      prompt = sum(prompt, count(usage, "cache_read_input_tokens"));
      input = Math.max(input, prompt);
    }
    long completion = Math.max(count(usage, "completion_tokens"), count(usage, "output_tokens"));
    if (completion >= 0) {
      output = completion;
    }
    long all = count(usage, "total_tokens");
    if (all >= 0) {
      total = all;
    }
  }

  /**
   * The most tokens one count may report: 2^40, over a trillion, far beyond any response. A larger
   * count is taken as this many, so that the sums and totals made of a few counts, and the budget
   * counters they are added to, cannot overflow into negative numbers (ScannerFuzzTest found
   * {@code input_tokens: 9223372036854775807} making the total negative, which would have given
   * budget back instead of spending it).
   */
  static final long MAX_COUNT = 1L << 40;

  /** @return the count in {@code field}, at most {@link #MAX_COUNT}, or -1 when it is absent, null or not a count */
  private static long count(JsonNode usage, String field) {
    JsonNode n = usage.get(field);
    if (n == null || !n.isNumber()) {
      return -1;
    }
    if (n.isIntegralNumber() ? n.bigIntegerValue().signum() < 0 : n.doubleValue() < 0) {
      return -1;
    }
    return n.canConvertToLong() ? Math.min(n.asLong(), MAX_COUNT) : MAX_COUNT;
  }

  /** @return the sum of the counts present, or -1 when neither is */
  private static long sum(long a, long b) {
    if (a < 0) {
      return b;
    }
    return b < 0 ? a : a + b;
  }
}
