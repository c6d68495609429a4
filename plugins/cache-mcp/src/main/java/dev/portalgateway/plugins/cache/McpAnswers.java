package dev.portalgateway.plugins.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads the {@code result} of a JSON-RPC answer out of an MCP response, as the bytes the server
 * wrote (never re-serialised), and writes a cached result back as the answer to another request,
 * with that request's id, as JSON or as a one-event stream.
 */
final class McpAnswers {
  private static final JsonFactory JSON = new JsonFactory();

  private McpAnswers() {}

  /**
   * @param contentType the response's content type
   * @param body the whole response body
   * @param idJson the request's id, as JSON
   * @return the bytes of the {@code result} of the success answer to that id, or {@code null} when
   *     the body holds no such answer (an error, another id, a body that is not JSON-RPC)
   */
  static byte[] result(String contentType, byte[] body, String idJson) {
    String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
    if (type.startsWith("application/json") || (type.startsWith("application/") && type.contains("+json"))) {
      return resultOfMessage(body, idJson);
    }
    if (type.startsWith("text/event-stream")) {
      for (byte[] data : SseEvents.dataOf(body)) {
        byte[] result = resultOfMessage(data, idJson);
        if (result != null) {
          return result;
        }
      }
    }
    return null;
  }

  /** @return the {@code result} bytes of one JSON-RPC message answering {@code idJson}, or null */
  static byte[] resultOfMessage(byte[] message, String idJson) {
    try (JsonParser p = JSON.createParser(message)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      boolean version = false;
      boolean idMatches = false;
      byte[] result = null;
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "jsonrpc" -> version = value == JsonToken.VALUE_STRING && "2.0".equals(p.getText());
          case "id" -> idMatches = idJson.equals(idText(p, value));
          case "error" -> {
            return null; // errors are never cached
          }
          case "result" -> {
            int start = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            // A string is read lazily: without this the location is still just past its opening
            // quote, and a string result was cached as '"' (McpFuzzTest.mcpAnswers found it).
            p.finishToken();
            int end = (int) p.currentLocation().getByteOffset();
            result = Arrays.copyOfRange(message, start, end);
          }
          default -> p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        return null;
      }
      return version && idMatches ? result : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String idText(JsonParser p, JsonToken value) throws IOException {
    return switch (value) {
      case VALUE_NUMBER_INT -> p.getText();
      case VALUE_STRING -> {
        StringBuilder sb = new StringBuilder();
        com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(p.getText(), sb);
        yield "\"" + sb + "\"";
      }
      default -> null;
    };
  }

  /**
   * @param accept the request's {@code Accept}
   * @return whether to answer as a stream: only when the client accepts a stream and not JSON
   */
  static boolean wantsStream(String accept) {
    if (accept == null) {
      return false;
    }
    String a = accept.toLowerCase(Locale.ROOT);
    return a.contains("text/event-stream") && !a.contains("application/json") && !a.contains("*/*")
        && !a.contains("application/*");
  }

  /** @return a cached result as the answer to the request with {@code idJson} */
  static Response answer(byte[] result, String idJson, boolean stream, Headers extra) {
    byte[] message = message(result, idJson);
    Headers.Builder h = extra.toBuilder();
    h.set("Cache-Control", "no-store"); // the gateway's cache, not the client's
    if (!stream) {
      h.set("Content-Type", "application/json");
      return Response.of(200, h.build(), Body.of(message));
    }
    h.set("Content-Type", "text/event-stream");
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 32);
    out.writeBytes("event: message\ndata: ".getBytes(StandardCharsets.US_ASCII));
    for (byte b : message) {
      if (b == '\n') {
        out.writeBytes("\ndata: ".getBytes(StandardCharsets.US_ASCII)); // a pretty-printed result stays one event
      } else if (b != '\r') {
        out.write(b);
      }
    }
    out.writeBytes("\n\n".getBytes(StandardCharsets.US_ASCII));
    return Response.of(200, h.build(), Body.of(out.toByteArray()));
  }

  private static byte[] message(byte[] result, String idJson) {
    byte[] head = ("{\"jsonrpc\":\"2.0\",\"id\":" + idJson + ",\"result\":").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + result.length + 1];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(result, 0, out, head.length, result.length);
    out[out.length - 1] = '}';
    return out;
  }
}
