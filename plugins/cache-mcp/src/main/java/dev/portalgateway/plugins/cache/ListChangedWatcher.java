package dev.portalgateway.plugins.cache;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Watches an event stream from a lease, as it passes, for the notifications that say a list
 * changed ({@code notifications/tools/list_changed} and the prompts and resources ones, and
 * {@code notifications/resources/updated}), and reports each kind it sees. Nothing is held back:
 * the stream is only searched, with the end of the previous read kept so that a name split
 * across two reads is still found.
 */
final class ListChangedWatcher extends FilterInputStream {
  /** The notifications, and the kind each reports. */
  private static final String[][] NOTIFICATIONS = {
      {"notifications/tools/list_changed", "tools"},
      {"notifications/prompts/list_changed", "prompts"},
      {"notifications/resources/list_changed", "resources"},
      {"notifications/resources/updated", "resources"},
  };
  private static final int KEEP = 40; // longer than the longest name

  private final Consumer<String> onChange;
  private String tail = "";

  /**
   * @param in the event stream
   * @param onChange told {@code tools}, {@code prompts} or {@code resources} for each notification
   */
  ListChangedWatcher(InputStream in, Consumer<String> onChange) {
    super(in);
    this.onChange = onChange;
  }

  /** Searches a whole body that was read at once. */
  static void scan(byte[] body, Consumer<String> onChange) {
    report(new String(body, StandardCharsets.ISO_8859_1), onChange);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    if (n > 0) {
      // ISO-8859-1 maps bytes to chars one to one: the names are ASCII, the rest does not matter.
      String window = tail + new String(b, off, n, StandardCharsets.ISO_8859_1);
      if (window.contains("notifications/")) {
        report(window, onChange);
      }
      // A name seen whole may be seen again in the kept tail: dropping entries twice is harmless.
      tail = window.length() > KEEP ? window.substring(window.length() - KEEP) : window;
    }
    return n;
  }

  private static void report(String text, Consumer<String> onChange) {
    for (String[] n : NOTIFICATIONS) {
      if (text.contains(n[0])) {
        onChange.accept(n[1]);
      }
    }
  }
}
