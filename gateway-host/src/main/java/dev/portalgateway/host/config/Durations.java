package dev.portalgateway.host.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Parses the human durations the configuration accepts: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d}. */
public final class Durations {
  private Durations() {}

  /**
   * @param text a number with a unit, a bare number of seconds, or an ISO-8601 duration
   * @return the duration
   * @throws IllegalArgumentException when the text is none of those
   */
  public static Duration parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("p")) {
      try {
        return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw bad(text);
      }
    }
    int split = 0;
    while (split < s.length() && (Character.isDigit(s.charAt(split)) || s.charAt(split) == '.')) {
      split++;
    }
    if (split == 0) {
      throw bad(text);
    }
    double amount;
    try {
      amount = Double.parseDouble(s.substring(0, split));
    } catch (NumberFormatException e) {
      throw bad(text);
    }
    double millis = switch (s.substring(split).trim()) {
      case "ms" -> amount;
      case "", "s" -> amount * 1_000;
      case "m" -> amount * 60_000;
      case "h" -> amount * 3_600_000;
      case "d" -> amount * 86_400_000;
      default -> throw bad(text);
    };
    return Duration.ofMillis(Math.round(millis));
  }

  /** @return the duration the way the configuration writes it, such as {@code 30s} */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 86_400_000 == 0 && ms != 0) return ms / 86_400_000 + "d";
    if (ms % 3_600_000 == 0 && ms != 0) return ms / 3_600_000 + "h";
    if (ms % 60_000 == 0 && ms != 0) return ms / 60_000 + "m";
    if (ms % 1_000 == 0) return ms / 1_000 + "s";
    return ms + "ms";
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "'" + text + "' is not a duration; write it like 500ms, 30s, 5m, 2h or 7d");
  }
}
