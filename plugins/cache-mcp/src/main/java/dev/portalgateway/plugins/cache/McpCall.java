package dev.portalgateway.plugins.cache;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One JSON-RPC 2.0 request as an MCP client sends it over the Streamable HTTP transport: a POST
 * whose body is a single object with an {@code id} and a {@code method}. Notifications (no id),
 * responses and batches (arrays) are not calls and are never cached.
 *
 * @param idJson the request's id exactly as JSON ({@code 7} or {@code "abc"}), to put in a cached answer
 * @param method the method, such as {@code tools/list}
 * @param canonicalParams the params with object keys sorted and no spaces, so that equal params
 *     give equal keys whatever the client's field order
 * @param toolName for {@code tools/call}, the tool's name; otherwise {@code null}
 */
record McpCall(String idJson, String method, String canonicalParams, String toolName) {
  /**
   * Numbers with a fraction or an exponent are read exactly (BigDecimal), not as doubles: a double
   * turns {@code 1e400} into Infinity, which Jackson writes as the string {@code "Infinity"}, so
   * the params {@code {"x":1e400}} and {@code {"x":"Infinity"}} shared one cache key
   * (McpFuzzTest.mcpCall found it). Equal values still give equal keys ({@code 1.0} and
   * {@code 1.00} both read as {@code 1}).
   */
  static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  /**
   * @param body a request body
   * @return the call, or {@code null} when the body is not a single JSON-RPC request
   */
  static McpCall parse(byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException | RuntimeException e) {
      return null; // not JSON, or a number no BigDecimal holds (1e99999999999): not a call to cache
    }
    if (root == null || !root.isObject() || !"2.0".equals(root.path("jsonrpc").asText(null))) {
      return null;
    }
    JsonNode id = root.get("id");
    JsonNode method = root.get("method");
    if (id == null || id.isNull() || !(id.isTextual() || id.isIntegralNumber()) || method == null || !method.isTextual()) {
      return null;
    }
    JsonNode params = root.get("params");
    String tool = null;
    if ("tools/call".equals(method.asText()) && params != null && params.path("name").isTextual()) {
      tool = params.path("name").asText();
    }
    try {
      return new McpCall(JSON.writeValueAsString(id), method.asText(), canonical(params == null ? null : withoutMeta(params)),
          tool);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  /**
   * {@code _meta} carries per-request details (a progress token) that do not change the answer;
   * leaving it in the key would make every call a miss.
   */
  private static JsonNode withoutMeta(JsonNode params) {
    if (params.isObject() && params.has("_meta")) {
      ObjectNode copy = ((ObjectNode) params).deepCopy();
      copy.remove("_meta");
      return copy;
    }
    return params;
  }

  /** @return the value as JSON with object keys sorted at every level */
  static String canonical(JsonNode node) {
    if (node == null || node.isNull()) {
      return "{}"; // no params and empty params ask the same
    }
    StringBuilder sb = new StringBuilder();
    write(sb, node);
    return sb.toString();
  }

  private static void write(StringBuilder sb, JsonNode node) {
    if (node.isObject()) {
      List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        fields.add(it.next());
      }
      fields.sort(Map.Entry.comparingByKey());
      sb.append('{');
      for (int i = 0; i < fields.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        sb.append(new com.fasterxml.jackson.databind.node.TextNode(fields.get(i).getKey())).append(':');
        write(sb, fields.get(i).getValue());
      }
      sb.append('}');
    } else if (node.isArray()) {
      sb.append('[');
      for (int i = 0; i < node.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(sb, node.get(i));
      }
      sb.append(']');
    } else {
      sb.append(node); // scalars print as JSON
    }
  }
}
