package dev.portalgateway.host.front;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The {@code Date} field's value, formatted at most once per second (every response carries one). */
final class HttpDate {
  /** The second and its text together, so a reader never pairs one second with another's text. */
  private record Stamp(long second, String text) {}

  private static volatile Stamp current = new Stamp(-1, "");

  private HttpDate() {}

  static String now() {
    long second = System.currentTimeMillis() / 1000;
    Stamp s = current;
    if (s.second() != second) {
      s = new Stamp(second, DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochSecond(second).atOffset(ZoneOffset.UTC)));
      current = s;
    }
    return s.text();
  }
}
