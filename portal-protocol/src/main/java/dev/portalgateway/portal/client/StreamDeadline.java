package dev.portalgateway.portal.client;

import dev.portalgateway.portal.yamux.YamuxStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds a blocking exchange on a yamux stream: yamux streams have no read timeout, so when the
 * time is up the stream is reset, which fails the pending read or write.
 */
public final class StreamDeadline implements AutoCloseable {
  private final AtomicBoolean done = new AtomicBoolean();
  private final AtomicBoolean expired = new AtomicBoolean();
  private final Thread timer;

  public StreamDeadline(YamuxStream stream, Duration timeout) {
    timer = Thread.ofVirtual().name("portal-deadline-" + stream.id()).start(() -> {
      try {
        Thread.sleep(timeout);
      } catch (InterruptedException e) {
        return;
      }
      if (done.compareAndSet(false, true)) {
        expired.set(true);
        stream.reset();
      }
    });
  }

  /** Whether the timeout fired (and reset the stream). */
  public boolean expired() {
    return expired.get();
  }

  /** Disarms the deadline; the stream is left alone from now on. */
  @Override
  public void close() {
    if (done.compareAndSet(false, true)) {
      timer.interrupt();
    }
  }
}
