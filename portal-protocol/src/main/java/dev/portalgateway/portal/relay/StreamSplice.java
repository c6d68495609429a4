package dev.portalgateway.portal.relay;

import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Joins two yamux streams byte for byte in both directions. An EOF on one side becomes a FIN on
 * the other (half-close), a failure on either side resets both, and both streams are closed once
 * both directions have ended.
 */
final class StreamSplice {
  private final YamuxStream a;
  private final YamuxStream b;
  private final AtomicInteger directionsLeft = new AtomicInteger(2);

  private StreamSplice(YamuxStream a, YamuxStream b) {
    this.a = a;
    this.b = b;
  }

  /** Starts copying in both directions on virtual threads and returns at once. */
  static void start(YamuxStream a, YamuxStream b) {
    StreamSplice splice = new StreamSplice(a, b);
    Thread.ofVirtual().name("splice-" + a.id() + "-to-" + b.id()).start(() -> splice.copy(a, b));
    Thread.ofVirtual().name("splice-" + b.id() + "-to-" + a.id()).start(() -> splice.copy(b, a));
  }

  private void copy(YamuxStream from, YamuxStream to) {
    InputStream in = from.getInputStream();
    OutputStream out = to.getOutputStream();
    byte[] buffer = new byte[32 * 1024];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
      }
      to.closeOutput();
    } catch (IOException e) {
      // One broken side makes the whole connection meaningless: tell both ends.
      a.reset();
      b.reset();
    }
    if (directionsLeft.decrementAndGet() == 0) {
      closeQuietly(a);
      closeQuietly(b);
    }
  }

  private static void closeQuietly(YamuxStream stream) {
    try {
      stream.close();
    } catch (IOException ignored) {
      // Already reset or the session is gone; nothing left to release.
    }
  }
}
