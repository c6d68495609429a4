package dev.portalgateway.plugins.ratelimit;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The body of one AI response as the client reads it, metered: it calls back once, when the body
 * ends, with the usage the response reported. Wrap a body with it:
 * {@code response.body().map(in -> UsageMeter.wrap(in, contentType, ...))}.
 *
 * <p>It never holds the stream back: every byte read from the upstream goes to the reader in the
 * same {@code read}, so server-sent events still reach the client one by one. The one exception is
 * removing the usage chunk the gateway asked for on the client's behalf
 * ({@link AiRequestInspector.Inspection#usageInjected()}): then each event is held until its blank
 * line has been read, one event at a time, until that chunk has gone by.
 *
 * <ul>
 *   <li>{@code text/event-stream}: events are read as they pass ({@link EventStreamScanner});
 *   <li>{@code application/json} and {@code application/*+json}: a side copy of up to
 *       {@link #MAX_JSON_BYTES} is parsed at the end ({@link JsonBodyScanner});
 *   <li>anything else passes untouched and reports no usage.
 * </ul>
 *
 * <p>A client that hangs up must not get its tokens for free: the upstream generated (and bills)
 * them anyway. When the reader closes the stream before its end, {@code close()} returns at once
 * and a virtual thread reads the rest of the upstream body, within the {@link Drain} limits, to
 * find the usage; it calls back with what it found (which, cut short by the limits, may be part of
 * it) and closes the upstream.
 *
 * <p>Thread-safety: the stream is read by one thread at a time, and may be closed from any thread,
 * also while a read is blocked (the gateway does that when it finds the client gone). Reads and
 * the drain take {@link #lock}, so the upstream and the scanner are only ever used by one thread
 * at a time; {@link #close} never waits for it. The callback is called exactly once per stream, on
 * the thread that saw the end: the reader at EOF or on a read error, the closer when there is
 * nothing to drain, or the drain thread. Keep it short or hand the work off; whatever it throws is
 * logged and dropped. A body opened twice (a replayable one) is metered twice.
 */
final class UsageMeter extends InputStream {
  /** The longest server-sent event parsed (or held back). */
  static final int MAX_EVENT_BYTES = 1024 * 1024;
  /** The longest JSON body parsed. */
  static final int MAX_JSON_BYTES = 1024 * 1024;
  /** The most bytes read on for an abandoned stream, unless the caller says otherwise. */
  static final long DRAIN_MAX_BYTES = 16L * 1024 * 1024;
  private static final int CHUNK = 8 * 1024;
  private static final System.Logger LOG = System.getLogger(UsageMeter.class.getName());

  /** How a body is read for usage, by its {@code Content-Type}. */
  enum Mode {
    EVENT_STREAM,
    JSON,
    /** Not a type usage can be read from: the bytes pass untouched. */
    NONE
  }

  /**
   * What happens when the reader leaves before the end of the body.
   *
   * @param timeout the longest the upstream is read on after the reader left; zero to close it at
   *     once and report no usage ({@code null})
   * @param maxBytes the most bytes read on after the reader left
   */
  record Drain(Duration timeout, long maxBytes) {
    Drain {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || maxBytes < 0) {
        throw new IllegalArgumentException("a drain needs a timeout and byte limit of zero or more");
      }
    }
  }

  private final InputStream upstream;
  private final Mode mode;
  private final ResponseScanner scanner;
  private final String requestModel;
  private final Drain drain;
  private final BiConsumer<Usage, Boolean> onEnd;
  private final ReentrantLock lock = new ReentrantLock();
  /** Bytes ready for the reader, while the scanner transforms. */
  private final ByteQueue pending = new ByteQueue();
  private final AtomicBoolean reported = new AtomicBoolean();
  private final AtomicBoolean closeCalled = new AtomicBoolean();
  private final AtomicBoolean upstreamClosed = new AtomicBoolean();
  private byte[] chunk;
  /** The upstream body ended cleanly. Guarded by {@link #lock}. */
  private boolean eof;
  /** The usage is settled (end, read error, or drain done); {@link #endUsage} holds it. */
  private volatile boolean ended;
  private Usage endUsage;
  private volatile boolean closed;

  private UsageMeter(InputStream upstream, Mode mode, ResponseScanner scanner, String requestModel, Drain drain,
      BiConsumer<Usage, Boolean> onEnd) {
    this.upstream = Objects.requireNonNull(upstream, "upstream");
    this.mode = mode;
    this.scanner = scanner;
    this.requestModel = requestModel;
    this.drain = Objects.requireNonNull(drain, "drain");
    this.onEnd = Objects.requireNonNull(onEnd, "onEnd");
  }

  /**
   * Meters a response body, reading on for up to {@link #DRAIN_MAX_BYTES} when the reader leaves early.
   *
   * @see #wrap(InputStream, String, boolean, String, Drain, Consumer)
   */
  static UsageMeter wrap(InputStream upstream, String contentType, boolean usageInjected, String requestModel,
      Duration drainTimeout, Consumer<Usage> onEnd) {
    return wrap(upstream, contentType, usageInjected, requestModel, new Drain(drainTimeout, DRAIN_MAX_BYTES), onEnd);
  }

  /**
   * Meters a response body.
   *
   * @param upstream the body as the upstream sends it; closed when this stream is (after the drain)
   * @param contentType the response's {@code Content-Type}, or {@code null}
   * @param usageInjected whether the gateway added {@code stream_options.include_usage} to the
   *     request: the usage-only chunk is then removed from what the client reads
   * @param requestModel the model the request named, for a response that names none; or {@code null}
   * @param drain what to do when the reader leaves early
   * @param onEnd called once when the body ends, with its usage, or {@code null} when none was found
   * @return the stream to give the client instead of {@code upstream}
   */
  static UsageMeter wrap(InputStream upstream, String contentType, boolean usageInjected, String requestModel,
      Drain drain, Consumer<Usage> onEnd) {
    Objects.requireNonNull(onEnd, "onEnd");
    return wrap(upstream, contentType, usageInjected, requestModel, drain, (usage, complete) -> onEnd.accept(usage));
  }

  /**
   * Meters a response body, telling the callback also whether the body was read to its end: a
   * body cut short (the client left and the drain gave up, or the upstream broke) may report
   * partial usage, which a budget should not take at face value.
   *
   * @param onEnd called once with the usage (or {@code null}) and whether the body ended cleanly
   * @see #wrap(InputStream, String, boolean, String, Drain, Consumer)
   */
  static UsageMeter wrap(InputStream upstream, String contentType, boolean usageInjected, String requestModel,
      Drain drain, BiConsumer<Usage, Boolean> onEnd) {
    Mode mode = modeOf(contentType);
    ResponseScanner scanner = switch (mode) {
      case EVENT_STREAM -> new EventStreamScanner(usageInjected, MAX_EVENT_BYTES);
      case JSON -> new JsonBodyScanner(MAX_JSON_BYTES);
      case NONE -> ResponseScanner.NONE;
    };
    return new UsageMeter(upstream, mode, scanner, requestModel, drain, onEnd);
  }

  /** @return how a body of this media type is read for usage */
  static Mode modeOf(String contentType) {
    if (contentType == null) {
      return Mode.NONE;
    }
    int semicolon = contentType.indexOf(';');
    String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    if (type.equals("text/event-stream")) {
      return Mode.EVENT_STREAM;
    }
    if (type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"))) {
      return Mode.JSON;
    }
    return Mode.NONE;
  }

  /** @return how this stream is read for usage */
  Mode mode() {
    return mode;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    ensureOpen(); // before the lock: after close the drain may hold it for a long while
    lock.lock();
    try {
      ensureOpen();
      while (true) {
        if (!pending.isEmpty()) {
          return pending.take(b, off, len);
        }
        if (eof) {
          return -1;
        }
        if (scanner.transforming()) {
          if (chunk == null) {
            chunk = new byte[CHUNK];
          }
          int n = readUpstream(chunk, 0, chunk.length);
          if (n < 0) {
            endOfBody();
          } else {
            scanner.scan(chunk, 0, n, pending);
          }
        } else {
          // Straight into the reader's array: nothing is held, nothing copied.
          int n = readUpstream(b, off, len);
          if (n < 0) {
            endOfBody();
          } else {
            scanner.scan(b, off, n, null);
            return n;
          }
        }
      }
    } finally {
      lock.unlock();
      if (ended) {
        report(endUsage); // outside the lock; a no-op once reported
      }
    }
  }

  @Override
  public int available() throws IOException {
    if (closed || !lock.tryLock()) {
      return 0;
    }
    try {
      if (!pending.isEmpty()) {
        return pending.size();
      }
      // While events are held back, upstream bytes may not be readable yet: claiming them would
      // keep the gateway from flushing what it already wrote.
      return eof || scanner.transforming() ? 0 : upstream.available();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    if (!closeCalled.compareAndSet(false, true)) {
      return;
    }
    closed = true;
    if (ended || reported.get() || mode == Mode.NONE || drain.timeout().isZero()) {
      if (!ended) {
        report(null);
      }
      closeUpstream(); // also wakes a read still blocked on it
      return;
    }
    // The reader left before the end: read on in the background for the usage.
    Thread.ofVirtual().name("ratelimit-usage-drain").start(this::drain);
  }

  private void drain() {
    Thread timer = Thread.ofVirtual().name("ratelimit-usage-drain-timer").start(() -> {
      try {
        Thread.sleep(drain.timeout());
      } catch (InterruptedException e) {
        return; // the drain finished first
      }
      closeUpstream(); // wakes a read blocked on an upstream that went quiet
    });
    long start = System.nanoTime();
    boolean settledHere = false;
    Usage found = null;
    try {
      lock.lock(); // waits for a read in progress when the reader closed from another thread
      try {
        if (!ended) {
          settledHere = true;
          found = readOn(start);
          endUsage = found;
          ended = true;
        }
      } finally {
        lock.unlock();
      }
    } finally {
      timer.interrupt();
      closeUpstream();
      if (settledHere) {
        report(found);
      }
    }
  }

  /** Reads what is left of the upstream body, within the drain's limits; holds {@link #lock}. */
  private Usage readOn(long start) {
    byte[] buf = chunk != null ? chunk : new byte[CHUNK];
    long limit = nanos(drain.timeout());
    long read = 0;
    try {
      while (!scanner.hopeless() && read < drain.maxBytes() && System.nanoTime() - start < limit) {
        int n = upstream.read(buf, 0, (int) Math.min(buf.length, drain.maxBytes() - read));
        if (n < 0) {
          eof = true;
          scanner.end(null);
          break;
        }
        scanner.scan(buf, 0, n, null);
        read += n;
      }
    } catch (IOException | RuntimeException e) {
      // The upstream failed, or the timer closed it: what was seen is all there is.
    }
    return scanner.usage(requestModel);
  }

  private int readUpstream(byte[] b, int off, int len) throws IOException {
    try {
      int n;
      do {
        n = upstream.read(b, off, len);
      } while (n == 0);
      return n;
    } catch (IOException | RuntimeException e) {
      if (!ended) {
        endUsage = scanner.usage(requestModel); // charge what was seen before it broke
        ended = true;
      }
      throw e;
    }
  }

  private void endOfBody() {
    eof = true;
    scanner.end(pending);
    if (!ended) {
      endUsage = scanner.usage(requestModel);
      ended = true;
    }
  }

  private static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE; // centuries: no limit
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("the metered body stream is closed");
    }
  }

  private void report(Usage usage) {
    if (!reported.compareAndSet(false, true)) {
      return;
    }
    try {
      onEnd.accept(usage, eof);
    } catch (RuntimeException e) {
      // The client's stream is not the place to fail a budget update.
      LOG.log(Level.WARNING, "recording the token usage of a response failed", e);
    }
  }

  private void closeUpstream() {
    if (upstreamClosed.compareAndSet(false, true)) {
      try {
        upstream.close();
      } catch (IOException | RuntimeException e) {
        // Released either way; nothing more to do with it.
      }
    }
  }
}
