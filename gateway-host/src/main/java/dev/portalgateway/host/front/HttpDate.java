package dev.portalgateway.host.front;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** The {@code Date} field's value, formatted at most once per second (every response carries one). */
final class HttpDate {
  private static volatile long second = -1;
  private static volatile String text = "";

  private HttpDate() {}

  static String now() {
    long now = System.currentTimeMillis() / 1000;
    if (now != second) {
      text = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(now),
          ZoneOffset.UTC));
      second = now;
    }
    return text;
  }
}
