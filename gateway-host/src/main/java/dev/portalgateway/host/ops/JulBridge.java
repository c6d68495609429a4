package dev.portalgateway.host.ops;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Sends {@code java.util.logging} records (the JDK's and robaho's HTTP servers, the JDK HTTP
 * client) through {@link JsonLog}, so that stdout stays one JSON object per line. Their INFO
 * chatter (a line per listener start) is dropped; warnings and errors are kept.
 */
public final class JulBridge extends Handler {
  private JulBridge() {}

  /** Replaces the JUL root handlers with the bridge. */
  public static void install() {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    root.setLevel(Level.WARNING);
    root.addHandler(new JulBridge());
  }

  @Override
  public void publish(LogRecord record) {
    if (!isLoggable(record)) {
      return;
    }
    System.Logger.Level level = record.getLevel().intValue() >= Level.SEVERE.intValue() ? System.Logger.Level.ERROR
        : record.getLevel().intValue() >= Level.WARNING.intValue() ? System.Logger.Level.WARNING
        : System.Logger.Level.INFO;
    String message = record.getMessage();
    if (record.getParameters() != null && record.getParameters().length > 0 && message != null) {
      try {
        message = java.text.MessageFormat.format(message, record.getParameters());
      } catch (IllegalArgumentException ignored) {
        // Keep the raw pattern.
      }
    }
    if (record.getThrown() != null) {
      JsonLog.log(level, record.getLoggerName(), message, "error", record.getThrown());
    } else {
      JsonLog.log(level, record.getLoggerName(), message);
    }
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
