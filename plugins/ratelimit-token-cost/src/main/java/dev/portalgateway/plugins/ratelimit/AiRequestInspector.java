package dev.portalgateway.plugins.ratelimit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads what a budget needs to know of an AI request from its JSON body: the model, the most
 * tokens it may produce, whether it streams, and which API it speaks. For an OpenAI streaming
 * request it can also ask the upstream for the usage the client did not ask for.
 *
 * <p><b>OpenAI or Anthropic.</b> Both vendors' chat requests carry {@code messages}, but only
 * OpenAI's accept {@code stream_options}: Anthropic refuses the field. So the rule leans towards
 * leaving a body alone:
 *
 * <ol>
 *   <li>the upstream path decides when it names the API: ending in {@code /completions}
 *       ({@code /v1/chat/completions}, {@code /chat/completions}, {@code /v1/completions}, Azure's
 *       {@code /openai/deployments/x/chat/completions}) is OpenAI; ending in {@code /messages} or
 *       {@code /complete} ({@code /v1/messages}, the legacy {@code /v1/complete}) is Anthropic;
 *   <li>on any other path (a route that rewrites it, Bedrock's {@code /invoke}), a top-level
 *       {@code anthropic_version} or {@code system}, fields only Anthropic has, make it Anthropic;
 *       otherwise it is OpenAI (so a body with {@code stream_options} and neither of those is
 *       OpenAI's).
 * </ol>
 *
 * Either way it is a chat or completions request only when it has {@code messages} or
 * {@code prompt}; other JSON (embeddings, Responses) is {@link Api#OTHER_JSON}.
 *
 * <p><b>Usage injection.</b> An OpenAI stream reports usage only when the request asks with
 * {@code "stream_options": {"include_usage": true}}. With {@code injectStreamUsage}, an OpenAI
 * request with {@code "stream": true} that does not set {@code include_usage} gets it: the field
 * goes into its {@code stream_options} (replacing a {@code null}), or {@code stream_options} is
 * added after the last field. Only those bytes are inserted, so every other field keeps its
 * order, spelling and numbers. A client's own {@code include_usage} (true or false) is left alone,
 * as is every body that does not stream, is not OpenAI's, or repeats {@code stream_options} or
 * {@code include_usage} (upstreams disagree on which of two counts).
 */
final class AiRequestInspector {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  /** Which API a request body speaks. */
  enum Api {
    /** OpenAI chat completions ({@code messages}) or legacy completions ({@code prompt}). */
    OPENAI_COMPLETIONS,
    /** Anthropic Messages ({@code messages}) or legacy text completions ({@code prompt}). */
    ANTHROPIC_MESSAGES,
    /** A JSON object without {@code messages} or {@code prompt}: embeddings, Responses, anything. */
    OTHER_JSON,
    /** Not read, not a JSON object, or not valid JSON: nothing is known. */
    UNKNOWN
  }

  /**
   * What a request body says. Immutable, as long as nobody changes the arrays.
   *
   * @param api which API the body speaks
   * @param model the {@code model}, or {@code null}
   * @param maxTokens the largest of {@code max_tokens}, {@code max_completion_tokens} and
   *     {@code max_output_tokens}, or {@code null} when none is a non-negative integer
   * @param streaming whether the body has {@code "stream": true}
   * @param bufferedBody the body as the client sent it, to forward when it is not rewritten; or
   *     {@code null} when it was not read
   * @param rewrittenBody the body to send instead, with usage asked for; {@code null} when unchanged
   * @param bodyLength the length of the client's body, -1 when unknown
   */
  record Inspection(Api api, String model, Long maxTokens, boolean streaming, byte[] bufferedBody,
      byte[] rewrittenBody, long bodyLength) {

    /** @return the result for a body that was not read (or cannot be): forward it as it is */
    static Inspection unknown(long bodyLength) {
      return new Inspection(Api.UNKNOWN, null, null, false, null, null, bodyLength);
    }

    /** @return whether the request is OpenAI chat completions or completions */
    boolean openAiCompletions() {
      return api == Api.OPENAI_COMPLETIONS;
    }

    /** @return whether {@link #rewrittenBody()} asks for the usage the client did not ask for */
    boolean usageInjected() {
      return rewrittenBody != null;
    }
  }

  private AiRequestInspector() {}

  /**
   * Reads a request body. Never throws: a body it cannot read is {@link Api#UNKNOWN}, and its
   * bytes are forwarded as they are.
   *
   * @param body the whole body, buffered by the caller (and bounded by it)
   * @param upstreamPath the path the request goes to upstream ({@code Request.upstreamPath()}), or {@code null}
   * @param injectStreamUsage whether to ask an OpenAI stream for its usage (see the class comment)
   * @return what the body says
   */
  static Inspection inspect(byte[] body, String upstreamPath, boolean injectStreamUsage) {
    if (body == null) {
      return Inspection.unknown(-1);
    }
    try {
      return read(body, upstreamPath, injectStreamUsage);
    } catch (IOException | RuntimeException e) {
      // Not JSON, or past Jackson's limits.
      return new Inspection(Api.UNKNOWN, null, null, false, body, null, body.length);
    }
  }

  /** What one pass over the top-level fields found; byte offsets are -1 until seen. */
  private static final class Fields {
    String model;
    long maxTokens = -1;
    boolean streaming;
    boolean prompted;
    boolean anthropicOnly;
    int streamOptionsSeen;
    /** The first token of {@code stream_options}: an object, null, or something the upstream will refuse. */
    JsonToken streamOptions;
    long streamOptionsNullAt = -1;
    long streamOptionsEndAt = -1;
    int streamOptionsFields;
    int includeUsageSeen;
    JsonToken includeUsage;
    long includeUsageNullAt = -1;
    long rootEndAt = -1;
  }

  private static Inspection read(byte[] body, String upstreamPath, boolean inject) throws IOException {
    Inspection unknown = new Inspection(Api.UNKNOWN, null, null, false, body, null, body.length);
    Fields f = new Fields();
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return unknown;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "model" -> f.model = value == JsonToken.VALUE_STRING ? p.getText() : null;
          case "max_tokens", "max_completion_tokens", "max_output_tokens" -> f.maxTokens = Math.max(f.maxTokens, count(p, value));
          case "stream" -> f.streaming = value == JsonToken.VALUE_TRUE;
          case "messages", "prompt" -> f.prompted |= value != JsonToken.VALUE_NULL;
          case "anthropic_version", "system" -> f.anthropicOnly = true;
          case "stream_options" -> streamOptions(p, value, f);
          default -> {}
        }
        p.skipChildren();
      }
      f.rootEndAt = p.currentTokenLocation().getByteOffset();
      if (p.nextToken() != null) {
        return unknown; // a second value after the object: not one JSON document
      }
    }
    Api api = !f.prompted ? Api.OTHER_JSON : anthropic(upstreamPath, f) ? Api.ANTHROPIC_MESSAGES : Api.OPENAI_COMPLETIONS;
    Long maxTokens = f.maxTokens < 0 ? null : f.maxTokens;
    byte[] rewritten = inject && api == Api.OPENAI_COMPLETIONS && f.streaming ? askForUsage(body, f) : null;
    return new Inspection(api, f.model, maxTokens, f.streaming, body, rewritten, body.length);
  }

  private static boolean anthropic(String upstreamPath, Fields f) {
    String path = upstreamPath == null ? "" : upstreamPath;
    int query = path.indexOf('?');
    if (query >= 0) {
      path = path.substring(0, query);
    }
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (path.endsWith("/completions")) {
      return false;
    }
    if (path.endsWith("/messages") || path.endsWith("/complete")) {
      return true;
    }
    return f.anthropicOnly;
  }

  /** Reads {@code stream_options}; leaves the parser on its last token. */
  private static void streamOptions(JsonParser p, JsonToken value, Fields f) throws IOException {
    f.streamOptionsSeen++;
    f.streamOptions = value;
    if (value == JsonToken.VALUE_NULL) {
      f.streamOptionsNullAt = p.currentTokenLocation().getByteOffset();
      return;
    }
    if (value != JsonToken.START_OBJECT) {
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      f.streamOptionsFields++;
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("include_usage")) {
        f.includeUsageSeen++;
        f.includeUsage = v;
        if (v == JsonToken.VALUE_NULL) {
          f.includeUsageNullAt = p.currentTokenLocation().getByteOffset();
        }
      }
      p.skipChildren();
    }
    f.streamOptionsEndAt = p.currentTokenLocation().getByteOffset();
  }

  /** @return the count a max-tokens field holds, or -1 when it is not a non-negative integer */
  private static long count(JsonParser p, JsonToken value) throws IOException {
    if (value != JsonToken.VALUE_NUMBER_INT) {
      return -1;
    }
    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      return p.getBigIntegerValue().signum() < 0 ? -1 : Long.MAX_VALUE;
    }
    long n = p.getLongValue();
    return n < 0 ? -1 : n;
  }

  /**
   * @return the body with {@code include_usage: true} added, or {@code null} when it needs none
   *     or is not safe to change
   */
  private static byte[] askForUsage(byte[] body, Fields f) {
    if (f.streamOptionsSeen > 1 || f.includeUsageSeen > 1) {
      return null; // repeated fields: upstreams disagree on which counts, so leave it be
    }
    if (f.streamOptionsSeen == 0) {
      return insertBefore(body, f.rootEndAt, ",\"stream_options\":{\"include_usage\":true}");
    }
    if (f.streamOptions == JsonToken.VALUE_NULL) {
      return replace(body, f.streamOptionsNullAt, NULL, "{\"include_usage\":true}");
    }
    if (f.streamOptions != JsonToken.START_OBJECT) {
      return null; // not an object: the upstream will refuse it, whatever is added
    }
    if (f.includeUsageSeen == 0) {
      String field = f.streamOptionsFields == 0 ? "\"include_usage\":true" : ",\"include_usage\":true";
      return insertBefore(body, f.streamOptionsEndAt, field);
    }
    if (f.includeUsage == JsonToken.VALUE_NULL) {
      return replace(body, f.includeUsageNullAt, NULL, "true");
    }
    return null; // the client chose: true needs nothing, false (or anything else) is respected
  }

  /**
   * Inserts {@code text} before the {@code }} at {@code closeAt}, right after the last value (only
   * whitespace can stand between them), so the body keeps its layout.
   */
  private static byte[] insertBefore(byte[] body, long closeAt, String text) {
    if (closeAt < 0 || closeAt >= body.length || body[(int) closeAt] != '}') {
      return null; // offsets not in bytes of this array (a byte order mark, say): do not guess
    }
    int at = (int) closeAt;
    while (at > 0 && isSpace(body[at - 1])) {
      at--;
    }
    return splice(body, at, at, text);
  }

  private static byte[] replace(byte[] body, long offset, byte[] expected, String text) {
    if (offset < 0 || offset + expected.length > body.length) {
      return null;
    }
    int at = (int) offset;
    for (int i = 0; i < expected.length; i++) {
      if (body[at + i] != expected[i]) {
        return null;
      }
    }
    return splice(body, at, at + expected.length, text);
  }

  private static byte[] splice(byte[] body, int from, int to, String text) {
    byte[] insert = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length - (to - from) + insert.length);
    out.write(body, 0, from);
    out.write(insert, 0, insert.length);
    out.write(body, to, body.length - to);
    return out.toByteArray();
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }
}
