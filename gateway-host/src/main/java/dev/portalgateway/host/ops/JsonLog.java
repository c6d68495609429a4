package dev.portalgateway.host.ops;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;

/**
 * The gateway's log: one JSON object per line on stdout, which is what container platforms and
 * log shippers read. Callers pass fields already redacted (see {@link Redaction}); this class never
 * sees a header map, so it cannot leak one.
 */
public final class JsonLog {
  private static volatile PrintStream sink = System.out;
  private static volatile System.Logger.Level threshold = System.Logger.Level.INFO;

  private JsonLog() {}

  /** Sends log lines to {@code out} instead of stdout (for tests of the CLI). */
  public static void redirect(PrintStream out) {
    sink = out;
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
    finish(sb);
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
    finish(sb);
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

  private static StringBuilder start(System.Logger.Level level, String logger) {
    StringBuilder sb = new StringBuilder(256);
    sb.append("{\"ts\":\"").append(Instant.now()).append("\",\"level\":\"").append(level.getName())
        .append('"');
    field(sb, "logger", logger);
    return sb;
  }

  private static void finish(StringBuilder sb) {
    sb.append("}\n");
    PrintStream out = sink;
    // One print call per line: PrintStream locks per call, so concurrent lines never interleave.
    out.print(sb);
    out.flush();
  }

  static void field(StringBuilder sb, String key, Object value) {
    sb.append(",\"");
    JsonStringEncoder.getInstance().quoteAsString(key, sb);
    sb.append("\":");
    if (value == null || (value instanceof Double d && !Double.isFinite(d)) || (value instanceof Float f && !Float.isFinite(f))) {
      sb.append("null"); // JSON has no NaN or Infinity
    } else if (value instanceof Number || value instanceof Boolean) {
      sb.append(value);
    } else if (value instanceof Throwable t) {
      sb.append('"');
      JsonStringEncoder.getInstance().quoteAsString(t.getClass().getSimpleName() + ": " + t.getMessage(), sb);
      sb.append('"');
    } else {
      sb.append('"');
      JsonStringEncoder.getInstance().quoteAsString(value.toString(), sb);
      sb.append('"');
    }
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
