package dev.portalgateway.host.config;

import java.util.Locale;

/** Parses byte sizes the configuration accepts: {@code 65536}, {@code 64KiB}, {@code 10MiB}, {@code 1GiB} (also KB/MB/GB, as powers of 1000). */
public final class ByteSizes {
  private ByteSizes() {}

  /**
   * @param text digits, optionally followed by a unit
   * @return the size in bytes
   * @throws IllegalArgumentException when the text is not a size
   */
  public static long parse(String text) {
    String s = text.trim();
    int split = 0;
    while (split < s.length() && Character.isDigit(s.charAt(split))) {
      split++;
    }
    if (split == 0) {
      throw bad(text);
    }
    long amount;
    try {
      amount = Long.parseLong(s.substring(0, split));
    } catch (NumberFormatException e) {
      throw bad(text);
    }
    long unit = switch (s.substring(split).trim().toLowerCase(Locale.ROOT)) {
      case "", "b" -> 1L;
      case "kib", "k" -> 1L << 10;
      case "mib", "m" -> 1L << 20;
      case "gib", "g" -> 1L << 30;
      case "kb" -> 1_000L;
      case "mb" -> 1_000_000L;
      case "gb" -> 1_000_000_000L;
      default -> throw bad(text);
    };
    try {
      return Math.multiplyExact(amount, unit);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("'" + text + "' is too large; the largest size is " + Long.MAX_VALUE + " bytes");
    }
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "'" + text + "' is not a size; write it like 65536, 64KiB or 10MiB");
  }
}
