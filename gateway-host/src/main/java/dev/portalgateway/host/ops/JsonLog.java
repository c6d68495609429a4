package dev.portalgateway.host.ops;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The gateway's log: one JSON object per line on stdout, which is what container platforms and
 * log shippers read. Callers pass fields already redacted (see {@link Redaction}); this class never
 * sees a header map, so it cannot leak one.
 */
public final class JsonLog {
  /** Batched lines are written at least this often. */
  private static final long BATCH_INTERVAL_MS = 50;
  private static final int BATCH_BYTES = 32 * 1024;

  private static volatile PrintStream sink = System.out;
  private static volatile System.Logger.Level threshold = System.Logger.Level.INFO;
  private static final ReentrantLock LOCK = new ReentrantLock();
  private static final StringBuilder PENDING = new StringBuilder(BATCH_BYTES * 2);

  static {
    Thread flusher = new Thread(() -> {
      while (true) {
        try {
          Thread.sleep(BATCH_INTERVAL_MS);
        } catch (InterruptedException e) {
          return;
        }
        flush();
      }
    }, "json-log-flusher");
    flusher.setDaemon(true);
    flusher.start();
  }

  private JsonLog() {}

  /**
   * Sends log lines to {@code out} instead of stdout (commands whose stdout is their output; tests).
   *
   * @return where lines went before, to restore
   */
  public static PrintStream redirect(PrintStream out) {
    flush();
    PrintStream previous = sink;
    sink = out;
    return previous;
  }

  /** Writes out batched lines now; call before the process exits. */
  public static void flush() {
    LOCK.lock();
    try {
      if (!PENDING.isEmpty()) {
        PrintStream out = sink;
        out.print(PENDING);
        out.flush();
        PENDING.setLength(0);
      }
    } finally {
      LOCK.unlock();
    }
  }

  /** @param level the lowest level written */
  public static void threshold(System.Logger.Level level) {
    threshold = level;
  }

  /** @return whether lines of {@code level} are written */
  public static boolean enabled(System.Logger.Level level) {
    return level.getSeverity() >= threshold.getSeverity() && level != System.Logger.Level.OFF;
  }

  /**
   * Writes one line.
   *
   * @param level the severity
   * @param logger who writes: {@code access}, {@code proxy}, {@code plugin.auth-apikey}, ...
   * @param message a human message, or {@code null}
   * @param fields more fields, in order; values are strings, numbers, booleans or {@code null}
   */
  public static void write(System.Logger.Level level, String logger, String message, Map<String, ?> fields) {
    if (!enabled(level)) {
      return;
    }
    StringBuilder sb = start(level, logger);
    if (message != null) {
      field(sb, "msg", message);
    }
    if (fields != null) {
      for (Map.Entry<String, ?> e : fields.entrySet()) {
        field(sb, e.getKey(), e.getValue());
      }
    }
    finish(sb, false);
  }

  /** Writes one line with alternating field names and values after the message. */
  public static void log(System.Logger.Level level, String logger, String message, Object... keysAndValues) {
    if (!enabled(level)) {
      return;
    }
    StringBuilder sb = start(level, logger);
    if (message != null) {
      field(sb, "msg", message);
    }
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      field(sb, String.valueOf(keysAndValues[i]), keysAndValues[i + 1]);
    }
    finish(sb, false);
  }

  /** Shorthand for an INFO line. */
  public static void info(String logger, String message, Object... keysAndValues) {
    log(System.Logger.Level.INFO, logger, message, keysAndValues);
  }

  /** Shorthand for a WARNING line. */
  public static void warn(String logger, String message, Object... keysAndValues) {
    log(System.Logger.Level.WARNING, logger, message, keysAndValues);
  }

  /** Shorthand for an ERROR line. */
  public static void error(String logger, String message, Object... keysAndValues) {
    log(System.Logger.Level.ERROR, logger, message, keysAndValues);
  }

  static StringBuilder start(System.Logger.Level level, String logger) {
    StringBuilder sb = new StringBuilder(256);
    sb.append("{\"ts\":\"");
    timestamp(sb, Instant.now());
    sb.append("\",\"level\":\"").append(level.getName()).append('"');
    field(sb, "logger", logger);
    return sb;
  }

  /** The last second formatted, {@code 2026-11-26T16:30:29}: lines in the same second share it. */
  private record Second(long epochSecond, String text) {}

  private static volatile Second lastSecond = new Second(Long.MIN_VALUE, "");

  /**
   * Appends {@code t} exactly as {@link Instant#toString} does (UTC, the fraction in 3, 6 or 9
   * digits, none when zero), formatting the date and time of day once per second: on a busy
   * gateway the access log writes a line per request, and {@code Instant.toString} was a visible
   * share of it (docs/performance.md).
   */
  static void timestamp(StringBuilder sb, Instant t) {
    Second s = lastSecond;
    if (s.epochSecond() != t.getEpochSecond()) {
      String full = Instant.ofEpochSecond(t.getEpochSecond()).toString(); // ends in 'Z'
      s = new Second(t.getEpochSecond(), full.substring(0, full.length() - 1));
      lastSecond = s;
    }
    sb.append(s.text());
    int nano = t.getNano();
    if (nano > 0) {
      sb.append('.');
      if (nano % 1_000_000 == 0) {
        digits(sb, nano / 1_000_000, 3);
      } else if (nano % 1000 == 0) {
        digits(sb, nano / 1000, 6);
      } else {
        digits(sb, nano, 9);
      }
    }
    sb.append('Z');
  }

  private static void digits(StringBuilder sb, int value, int width) {
    String text = Integer.toString(value);
    for (int i = text.length(); i < width; i++) {
      sb.append('0');
    }
    sb.append(text);
  }

  /**
   * Ends the line and writes it, or, when {@code batch}, lets it wait: a batched line reaches
   * stdout within {@value #BATCH_INTERVAL_MS} ms together with others, so that a busy gateway
   * makes one write call for many access-log lines instead of one each (about a fifth of its
   * throughput). Only the access log batches; warnings and errors never wait.
   */
  static void finish(StringBuilder sb, boolean batch) {
    sb.append("}\n");
    LOCK.lock();
    try {
      // Every line goes through the one buffer, so lines keep their order and never interleave.
      PENDING.append(sb);
      if (!batch || PENDING.length() >= BATCH_BYTES) {
        PrintStream out = sink;
        out.print(PENDING);
        out.flush();
        PENDING.setLength(0);
      }
    } finally {
      LOCK.unlock();
    }
  }

  static void field(StringBuilder sb, String key, Object value) {
    sb.append(',');
    string(sb, key);
    sb.append(':');
    if (value == null || (value instanceof Double d && !Double.isFinite(d)) || (value instanceof Float f && !Float.isFinite(f))) {
      sb.append("null"); // JSON has no NaN or Infinity
    } else if (value instanceof Number || value instanceof Boolean) {
      sb.append(value);
    } else if (value instanceof Throwable t) {
      string(sb, t.getClass().getSimpleName() + ": " + t.getMessage());
    } else {
      string(sb, value.toString());
    }
  }

  /** A number field, without boxing it. */
  static void field(StringBuilder sb, String key, long value) {
    sb.append(',');
    string(sb, key);
    sb.append(':').append(value);
  }

  /** A JSON string: quoted, and escaped only when it has something to escape (most have not). */
  static void string(StringBuilder sb, String s) {
    sb.append('"');
    if (needsEscaping(s)) {
      JsonStringEncoder.getInstance().quoteAsString(s, sb);
    } else {
      sb.append(s);
    }
    sb.append('"');
  }

  private static boolean needsEscaping(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\' || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029) {
        return true;
      }
    }
    return false;
  }

  /** A {@link System.Logger} that writes through this log, for plugins. */
  public static System.Logger systemLogger(String logger) {
    return new System.Logger() {
      @Override
      public String getName() {
        return logger;
      }

      @Override
      public boolean isLoggable(Level level) {
        return enabled(level);
      }

      @Override
      public void log(Level level, java.util.ResourceBundle bundle, String msg, Throwable thrown) {
        if (thrown == null) {
          JsonLog.log(level, logger, msg);
        } else {
          JsonLog.log(level, logger, msg, "error", thrown);
        }
      }

      @Override
      public void log(Level level, java.util.ResourceBundle bundle, String format, Object... params) {
        String msg = params == null || params.length == 0 ? format : java.text.MessageFormat.format(format, params);
        JsonLog.log(level, logger, msg);
      }
    };
  }
}
