package dev.portalgateway.plugins.ratelimit;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;

/**
 * Reads usage from a {@code text/event-stream} body as it passes, line by line, as the SSE
 * specification parses it: a line ends at LF, CR or CRLF; {@code data:} lines of one event are
 * joined with LF; a blank line ends the event. Only events whose data holds a {@code "usage"}
 * object (found by a byte search before any JSON parsing, so the many {@code "usage":null} chunks
 * of an OpenAI stream cost nothing) are parsed, plus the first that names a {@code "model"}.
 *
 * <p>When the gateway asked an OpenAI upstream for usage the client did not ask for, the
 * usage-only chunk ({@code "choices":[]} with a {@code usage} object) is not the client's to see:
 * with {@code removeUsageEvent} the scanner holds each event back until its end, then passes it
 * on whole, or drops that one event with its blank line, byte for byte. It holds at most one
 * event, and stops holding once the usage event is gone. Without it, bytes are only looked at.
 *
 * <p>An event longer than {@code maxEventBytes} is not parsed (and, when holding, passes on as it
 * comes), so memory per stream stays bounded. Not thread-safe.
 */
final class EventStreamScanner implements ResponseScanner {
  private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MODEL = "\"model\"".getBytes(StandardCharsets.US_ASCII);
  /** Events parsed only for their model, at most: a stream whose chunks name none is not parsed throughout. */
  private static final int MODEL_LOOKUPS = 4;

  /** Where the LF of a CRLF goes: it belongs to the line the CR ended. */
  private enum LfAfterCr {
    NONE,
    /** The CR ended a line inside an event: the LF is one more byte of that event. */
    EVENT,
    /** The CR ended an event that was passed on. */
    PASS,
    /** The CR ended the event that was removed. */
    DROP
  }

  private final int maxEventBytes;
  private final UsageTally tally = new UsageTally();
  /** The current line, without its terminator. */
  private final ByteQueue line = new ByteQueue();
  /** The data lines of the current event, joined with LF. */
  private final ByteQueue data = new ByteQueue();
  /** While removing: the raw bytes of the current event, until its end decides its fate. */
  private final ByteQueue held = new ByteQueue();

  private boolean removing;
  private int modelLookups;
  private boolean hasData;
  private long eventBytes;
  private boolean tooLarge;
  private LfAfterCr lfAfterCr = LfAfterCr.NONE;

  /**
   * @param removeUsageEvent whether to remove the OpenAI usage-only chunk from the stream
   * @param maxEventBytes the longest event parsed (and held back)
   */
  EventStreamScanner(boolean removeUsageEvent, int maxEventBytes) {
    this.removing = removeUsageEvent;
    this.maxEventBytes = maxEventBytes;
  }

  @Override
  public boolean transforming() {
    // After the removed event, its CR may still be followed by an LF that must not reach the client.
    return removing || lfAfterCr == LfAfterCr.DROP;
  }

  @Override
  public boolean hopeless() {
    return false;
  }

  @Override
  public Usage usage(String fallbackModel) {
    return tally.usage(fallbackModel);
  }

  @Override
  public void scan(byte[] b, int off, int len, ByteQueue out) {
    int end = off + len;
    for (int i = off; i < end; i++) {
      byte c = b[i];
      if (lfAfterCr != LfAfterCr.NONE) {
        LfAfterCr after = lfAfterCr;
        lfAfterCr = LfAfterCr.NONE;
        if (c == '\n') {
          if (after == LfAfterCr.EVENT) {
            eventBytes++;
            pass(c, out);
          } else if (after == LfAfterCr.PASS && out != null) {
            out.append(c);
          } // DROP: the rest of the removed event's blank line
          continue;
        }
      }
      eventBytes++;
      pass(c, out);
      checkSize(out);
      if (c == '\n' || c == '\r') {
        LfAfterCr ended = endLine(out);
        if (c == '\r') {
          lfAfterCr = ended;
        }
      } else if (!tooLarge) {
        line.append(c);
      }
    }
  }

  @Override
  public void end(ByteQueue out) {
    // A stream may end without the blank line after its last event; its usage still counts.
    if (!line.isEmpty()) {
      endLine(out);
    }
    if (hasData || !held.isEmpty()) {
      dispatch(out);
    }
    lfAfterCr = LfAfterCr.NONE;
  }

  /** Routes one raw byte of the stream: held back with its event while removing, else passed on. */
  private void pass(byte c, ByteQueue out) {
    if (out == null) {
      return;
    }
    if (removing && !tooLarge) {
      held.append(c);
    } else {
      out.append(c);
    }
  }

  /** @return where an LF right after this line's end would belong, were the end a CR */
  private LfAfterCr endLine(ByteQueue out) {
    if (line.isEmpty()) {
      return dispatch(out) ? LfAfterCr.DROP : LfAfterCr.PASS;
    }
    if (!tooLarge) {
      field();
    }
    line.clear();
    return LfAfterCr.EVENT;
  }

  /** Takes one field line: only {@code data} matters here ({@code event} names repeat the JSON's {@code type}). */
  private void field() {
    byte[] a = line.array();
    int start = line.start();
    int n = line.size();
    if (n < 4 || a[start] != 'd' || a[start + 1] != 'a' || a[start + 2] != 't' || a[start + 3] != 'a') {
      return;
    }
    int value;
    if (n == 4) {
      value = start + 4; // "data" alone: an empty data line
    } else if (a[start + 4] == ':') {
      value = n > 5 && a[start + 5] == ' ' ? start + 6 : start + 5;
    } else {
      return; // another field that starts with "data", such as "dataset:"
    }
    if (hasData) {
      data.append((byte) '\n');
    }
    hasData = true;
    data.append(a, value, start + n - value);
  }

  private void checkSize(ByteQueue out) {
    if (tooLarge || eventBytes <= maxEventBytes) {
      return;
    }
    // Too long to parse or to hold: let it go by unread, and let go of what was kept of it.
    tooLarge = true;
    line.clear();
    data.clear();
    hasData = false;
    if (out != null) {
      out.appendAndClear(held);
    } else {
      held.clear();
    }
  }

  /**
   * Ends an event: reads it, then passes its held bytes on or drops them.
   *
   * @return whether the event was removed
   */
  private boolean dispatch(ByteQueue out) {
    boolean remove = hasData && !tooLarge && readEvent(data) && removing;
    if (out != null && !remove) {
      out.appendAndClear(held);
    } else {
      held.clear();
    }
    if (remove) {
      removing = false; // one usage chunk per stream: from here on, bytes are only looked at
    }
    data.clear();
    line.clear();
    hasData = false;
    tooLarge = false;
    eventBytes = 0;
    return remove;
  }

  /**
   * Reads one event's data.
   *
   * @return whether it is the OpenAI usage-only chunk
   */
  private boolean readEvent(ByteQueue eventData) {
    byte[] a = eventData.array();
    int start = eventData.start();
    int n = eventData.size();
    if (eventData.contentEquals(DONE)) {
      return false;
    }
    boolean usage = hasUsageObject(a, start, start + n);
    boolean model = tally.model() == null && modelLookups < MODEL_LOOKUPS && indexOf(a, start, start + n, MODEL) >= 0;
    if (!usage && !model) {
      return false;
    }
    if (!usage) {
      modelLookups++;
    }
    JsonNode root = UsageTally.parse(a, start, n);
    if (root == null || !root.isObject()) {
      return false;
    }
    tally.absorb(root);
    JsonNode choices = root.get("choices");
    JsonNode usageNode = root.get("usage");
    return usage && choices != null && choices.isArray() && choices.isEmpty()
        && usageNode != null && usageNode.isObject();
  }

  /** @return whether {@code "usage"} appears followed by {@code :} and an object, not {@code null} */
  static boolean hasUsageObject(byte[] a, int from, int to) {
    for (int i = indexOf(a, from, to, USAGE); i >= 0; i = indexOf(a, i + 1, to, USAGE)) {
      int j = skipSpace(a, i + USAGE.length, to);
      if (j < to && a[j] == ':') {
        j = skipSpace(a, j + 1, to);
        if (j < to && a[j] == '{') {
          return true;
        }
      }
    }
    return false;
  }

  private static int skipSpace(byte[] a, int i, int to) {
    while (i < to && (a[i] == ' ' || a[i] == '\t' || a[i] == '\n' || a[i] == '\r')) {
      i++;
    }
    return i;
  }

  private static int indexOf(byte[] a, int from, int to, byte[] needle) {
    outer:
    for (int i = from; i <= to - needle.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (a[i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
