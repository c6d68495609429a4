package dev.portalgateway.plugins.cache;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** The {@code data} of each event of a whole {@code text/event-stream} body. */
final class SseEvents {
  private SseEvents() {}

  /**
   * @param body a complete event stream
   * @return each event's data, its {@code data:} lines joined with newlines
   */
  static List<byte[]> dataOf(byte[] body) {
    List<byte[]> events = new ArrayList<>();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    boolean hasData = false;
    int lineStart = 0;
    for (int i = 0; i <= body.length; i++) {
      boolean end = i == body.length;
      if (!end && body[i] != '\n' && body[i] != '\r') {
        continue;
      }
      int lineEnd = i;
      if (lineEnd == lineStart) {
        if (hasData) { // a blank line ends the event
          events.add(data.toByteArray());
          data.reset();
          hasData = false;
        }
      } else if (startsWith(body, lineStart, lineEnd, "data:") || (lineEnd - lineStart == 4
          && startsWith(body, lineStart, lineEnd, "data"))) {
        // "data" alone is a data line with an empty value, as the SSE specification reads a
        // field without a colon (McpFuzzTest.sseEvents holds this to the specification).
        int from = Math.min(lineEnd, lineStart + 5);
        if (from < lineEnd && body[from] == ' ') {
          from++;
        }
        if (hasData) {
          data.write('\n');
        }
        data.write(body, from, lineEnd - from);
        hasData = true;
      }
      if (!end && body[i] == '\r' && i + 1 < body.length && body[i + 1] == '\n') {
        i++;
      }
      lineStart = i + 1;
    }
    if (hasData) {
      events.add(data.toByteArray()); // a stream that ended without its blank line
    }
    return events;
  }

  private static boolean startsWith(byte[] b, int from, int to, String prefix) {
    if (to - from < prefix.length()) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (b[from + i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
