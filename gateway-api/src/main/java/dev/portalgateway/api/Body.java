package dev.portalgateway.api;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A request or response body: a stream of bytes, read once unless it is replayable.
 *
 * <p>Bodies stream by default: the gateway never holds a whole body in memory unless a filter asks
 * for it with {@link #buffered(long)}. To observe or transform a streaming body, wrap its stream
 * with {@link #map(StreamTransform)}: the wrapper sees bytes as they pass, and server-sent events
 * still reach the client one by one.
 */
public interface Body {

  /** Wraps a body's stream in another, such as a counting or parsing {@code FilterInputStream}. */
  @FunctionalInterface
  interface StreamTransform {
    /**
     * @param in the original stream
     * @return the stream to read instead; closing it must close {@code in}
     * @throws IOException when the wrapper cannot be set up
     */
    InputStream apply(InputStream in) throws IOException;
  }

  /** @return the length in bytes, or {@code -1} when unknown (the body will be sent chunked) */
  long length();

  /**
   * Opens the body for reading. The caller closes the stream. A body that is not
   * {@linkplain #isReplayable() replayable} can be opened once.
   *
   * @return the body's bytes
   * @throws IOException when the body cannot be read
   * @throws IllegalStateException when a non-replayable body is opened a second time
   */
  InputStream open() throws IOException;

  /** @return whether {@link #open()} may be called any number of times */
  boolean isReplayable();

  /**
   * Reads the whole body into memory, so that it can be sent again (a retry) or inspected.
   * A replayable body returns itself.
   *
   * @param maxBytes the most bytes to hold
   * @return a replayable body with the same bytes
   * @throws BodyTooLargeException when the body is longer than {@code maxBytes}
   * @throws IOException when the body cannot be read
   */
  default Body buffered(long maxBytes) throws IOException {
    if (isReplayable() && length() >= 0) {
      if (length() > maxBytes) {
        throw new BodyTooLargeException(maxBytes);
      }
      return this;
    }
    // Unknown length (a mapped body, say): only reading it tells whether it fits.
    return of(readAll(maxBytes));
  }

  /**
   * Reads the whole body.
   *
   * @param maxBytes the most bytes to read
   * @return the body's bytes
   * @throws BodyTooLargeException when the body is longer than {@code maxBytes}
   * @throws IOException when the body cannot be read
   */
  default byte[] readAll(long maxBytes) throws IOException {
    long declared = length();
    if (declared > maxBytes) {
      discard();
      throw new BodyTooLargeException(maxBytes);
    }
    try (InputStream in = open()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 8192);
      byte[] buf = new byte[8192];
      long total = 0;
      for (int n; (n = in.read(buf)) >= 0; ) {
        total += n;
        if (total > maxBytes) {
          throw new BodyTooLargeException(maxBytes);
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }

  /**
   * Releases the body without reading it, freeing the connection it may come from. Safe to call
   * on a body that was already opened or is replayable.
   */
  default void discard() {
    // A streaming body that was never opened holds its source until opened and closed.
    try {
      if (!isReplayable()) {
        open().close();
      }
    } catch (IOException | IllegalStateException ignored) {
      // Already opened or already broken: nothing left to release here.
    }
  }

  /**
   * @param transform wraps the stream as it is opened
   * @return a body of unknown length whose stream is {@code transform} applied to this one
   */
  default Body map(StreamTransform transform) {
    Body source = this;
    return new Body() {
      @Override
      public long length() {
        return -1;
      }

      @Override
      public InputStream open() throws IOException {
        return transform.apply(source.open());
      }

      @Override
      public boolean isReplayable() {
        return source.isReplayable();
      }

      @Override
      public void discard() {
        // Through the transform, so a wrapper that counts or charges sees the body end.
        try (InputStream in = open()) {
          // Opened only to be closed.
        } catch (IOException | IllegalStateException e) {
          source.discard();
        }
      }
    };
  }

  /** @return an empty, replayable body */
  static Body empty() {
    return of(new byte[0]);
  }

  /**
   * @param bytes the body's bytes; not copied, so do not change them afterwards
   * @return a replayable body of these bytes
   */
  static Body of(byte[] bytes) {
    return new Body() {
      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes);
      }

      @Override
      public boolean isReplayable() {
        return true;
      }

      @Override
      public Body buffered(long maxBytes) throws BodyTooLargeException {
        if (bytes.length > maxBytes) {
          throw new BodyTooLargeException(maxBytes);
        }
        return this;
      }
    };
  }

  /** @return a replayable body of the string encoded as UTF-8 */
  static Body of(String text) {
    return of(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * @param stream the body's bytes, read once
   * @param length the length in bytes, or {@code -1} when unknown
   * @return a streaming body that can be opened once
   */
  static Body ofStream(InputStream stream, long length) {
    AtomicBoolean opened = new AtomicBoolean();
    return new Body() {
      @Override
      public long length() {
        return length;
      }

      @Override
      public InputStream open() {
        if (!opened.compareAndSet(false, true)) {
          throw new IllegalStateException(
              "this body streams and was already read; call buffered(maxBytes) first to read it twice");
        }
        return stream;
      }

      @Override
      public boolean isReplayable() {
        return false;
      }

      @Override
      public void discard() {
        if (opened.compareAndSet(false, true)) {
          try {
            stream.close();
          } catch (IOException ignored) {
            // Nothing to do: the body is being thrown away.
          }
        }
      }
    };
  }
}
