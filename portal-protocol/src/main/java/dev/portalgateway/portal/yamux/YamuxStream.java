package dev.portalgateway.portal.yamux;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One yamux stream: an independent, flow-controlled byte pipe inside a {@link YamuxSession}.
 *
 * <p>Flow control follows hashicorp/yamux: each direction starts with a 256 KiB window. A writer
 * never has more unacknowledged bytes in flight than the peer granted and blocks until a
 * WindowUpdate returns credit; the receiving side buffers at most what it granted and returns
 * credit once the application has consumed at least half the window. This is what keeps one slow
 * reader from growing memory or starving the other streams of the session.
 *
 * <p>{@link #getOutputStream()}{@code .close()} half-closes (FIN: the peer reads EOF);
 * {@link #reset()} aborts both directions (RST: both ends fail with an IOException);
 * {@link #close()} closes both of our halves.
 */
public final class YamuxStream implements Closeable {

  private final YamuxSession session;
  private final int id;
  private final int maxWindow;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition readable = lock.newCondition();
  private final Condition writable = lock.newCondition();
  /** Serializes whole write() calls, so two writers' chunks don't interleave mid-call. */
  private final ReentrantLock writeCallLock = new ReentrantLock();

  // Receive side, guarded by lock.
  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
  private int headOffset;
  private int buffered;
  /** Credit the peer still has: bytes it may send before our next WindowUpdate. */
  private long recvWindow = YamuxConfig.INITIAL_STREAM_WINDOW;
  /** Bytes the application consumed that we have not yet credited back. */
  private long uncredited;
  /** Window above the protocol's initial 256 KiB, granted with our first window update. */
  private long extraInitialGrant;

  // Send side, guarded by lock.
  private long sendWindow = YamuxConfig.INITIAL_STREAM_WINDOW;
  /** Data bytes handed to the session so far. */
  private long bytesSent;
  /** {@link #bytesSent} when the peer's FIN or RST, or the session's end, was first seen; -1 before. */
  private long bytesSentWhenPeerClosed = -1;

  // State, guarded by lock.
  private boolean needAck;
  private boolean localClosed;
  private boolean remoteClosed;
  private boolean inputClosed;
  private boolean reset;
  private boolean resetByPeer;
  private IOException sessionFailure;

  private final InputStream input = new StreamInput();
  private final OutputStream output = new StreamOutput();

  YamuxStream(YamuxSession session, int id, int maxWindow, boolean openedByPeer) {
    this.session = session;
    this.id = id;
    this.maxWindow = maxWindow;
    this.needAck = openedByPeer;
    this.extraInitialGrant = maxWindow - YamuxConfig.INITIAL_STREAM_WINDOW;
  }

  /** The stream ID (odd when the client opened it, even when the server did). */
  public int id() {
    return id;
  }

  public InputStream getInputStream() {
    return input;
  }

  public OutputStream getOutputStream() {
    return output;
  }

  /** Bytes received and not yet read by the application (never more than the window). */
  public int bufferedBytes() {
    lock.lock();
    try {
      return buffered;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether this stream can no longer carry a fresh exchange, as far as the peer has told us
   * without a read: it sent FIN or RST, the session ended, or it sent bytes nobody has read. A
   * connection pool asks this of an idle stream before reusing it; it never blocks on I/O.
   *
   * @return {@code true} when the peer closed the stream, reset it, the session is gone, or
   *     unread bytes are waiting
   */
  public boolean peerClosedOrSentData() {
    lock.lock();
    try {
      return remoteClosed || reset || sessionFailure != null || buffered > 0;
    } finally {
      lock.unlock();
    }
  }

  /** @return data bytes sent on this stream so far (a mark for {@link #peerClosedBefore}) */
  public long bytesSent() {
    lock.lock();
    try {
      return bytesSent;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the peer had closed or reset the stream (or the session had ended) before any data
   * after {@code mark} was sent. A peer that closed before our bytes were even sent closed before
   * it could receive them, so nothing after the mark reached the application behind it: a request
   * written after the mark may safely be sent again elsewhere.
   *
   * @param mark a value of {@link #bytesSent()} taken earlier
   * @return whether the peer closed while no more than {@code mark} bytes had been sent
   */
  public boolean peerClosedBefore(long mark) {
    lock.lock();
    try {
      return bytesSentWhenPeerClosed >= 0 && bytesSentWhenPeerClosed <= mark;
    } finally {
      lock.unlock();
    }
  }

  /** Bytes we may still send before the peer must grant more credit. */
  public long sendWindow() {
    lock.lock();
    try {
      return sendWindow;
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- opening

  /** Sends the opening WindowUpdate (SYN on open). The increment is 0 with the default window,
   *  exactly what the Go side sends; a larger configured window is granted right here. */
  void sendWindowUpdateWithFlags(int flags) throws IOException {
    long delta;
    lock.lock();
    try {
      // Only the part of a configured window above the protocol's 256 KiB is granted here,
      // once; data that already arrived must not earn credit before it is consumed.
      delta = extraInitialGrant;
      recvWindow += delta;
      extraInitialGrant = 0;
    } finally {
      lock.unlock();
    }
    session.writeFrame(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, flags, id, (int) delta), null, 0, 0);
  }

  /** Sends the ACK for a peer-opened stream (done by acceptStream, like Go's AcceptStream). */
  void acknowledge() throws IOException {
    lock.lock();
    try {
      if (!needAck || reset || sessionFailure != null) {
        return;
      }
      needAck = false;
    } finally {
      lock.unlock();
    }
    sendWindowUpdateWithFlags(YamuxHeader.FLAG_ACK);
  }

  /** Flags owed on our next frame: the ACK if we have not acknowledged the peer's SYN yet. */
  private int takeSendFlags() {
    if (needAck) {
      needAck = false;
      return YamuxHeader.FLAG_ACK;
    }
    return 0;
  }

  // ---------------------------------------------------------------- frames from the reader

  /** Called on the session's reader thread for a Data frame; reads the body from {@code in}. */
  void receiveData(int flags, long length, InputStream in) throws IOException {
    lock.lock();
    try {
      if (length > recvWindow) {
        throw new YamuxProtocolException("receive window exceeded on stream "
            + Integer.toUnsignedLong(id) + ": " + length + " bytes, window " + recvWindow);
      }
      recvWindow -= length;
    } finally {
      lock.unlock();
    }
    byte[] body = new byte[(int) length];
    int done = 0;
    while (done < body.length) {
      int n = in.read(body, done, body.length - done);
      if (n < 0) {
        throw new java.io.EOFException("yamux: transport ended in the middle of a data frame");
      }
      done += n;
    }
    long creditNow = 0;
    lock.lock();
    try {
      if (length > 0) {
        if (inputClosed || reset) {
          // Nobody will read this; return the credit so the peer is not stuck forever.
          creditNow = length;
          recvWindow += length;
        } else {
          chunks.addLast(body);
          buffered += body.length;
          readable.signalAll();
        }
      }
    } finally {
      lock.unlock();
    }
    if (creditNow > 0) {
      sendCreditAsync(creditNow);
    }
    handleFlags(flags);
  }

  /** Called on the reader thread for a WindowUpdate frame. */
  void receiveWindowUpdate(int flags, long delta) {
    lock.lock();
    try {
      sendWindow += delta;
      writable.signalAll();
    } finally {
      lock.unlock();
    }
    handleFlags(flags);
  }

  private void handleFlags(int flags) {
    if ((flags & (YamuxHeader.FLAG_ACK | YamuxHeader.FLAG_RST)) != 0) {
      session.streamEstablished(id);
    }
    boolean forget = false;
    lock.lock();
    try {
      if ((flags & YamuxHeader.FLAG_RST) != 0) {
        reset = true;
        resetByPeer = true;
        forget = true;
        markPeerClosed();
      } else if ((flags & YamuxHeader.FLAG_FIN) != 0) {
        remoteClosed = true;
        forget = localClosed;
        markPeerClosed();
      }
      if (forget || remoteClosed) {
        readable.signalAll();
        writable.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (forget) {
      session.forgetStream(id);
    }
  }

  private void sendCreditAsync(long delta) {
    Thread.ofVirtual().start(() -> {
      if (!open()) {
        return; // closed meanwhile: the peer may have forgotten the stream
      }
      try {
        session.writeFrame(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, 0, id, (int) delta), null, 0, 0);
      } catch (IOException ignored) {
        // Session is closing; credit no longer matters.
      }
    });
  }

  /** @return whether frames for this stream may still go out: not reset, not closed on both sides */
  private boolean open() {
    lock.lock();
    try {
      return !reset && sessionFailure == null && !(localClosed && remoteClosed);
    } finally {
      lock.unlock();
    }
  }

  /** Holding {@link #lock}: remembers how much we had sent when the peer's side ended. */
  private void markPeerClosed() {
    if (bytesSentWhenPeerClosed < 0) {
      bytesSentWhenPeerClosed = bytesSent;
    }
  }

  /** The session ended: every blocked or future read and write fails with {@code cause}. */
  void sessionClosed(IOException cause) {
    lock.lock();
    try {
      if (sessionFailure == null) {
        sessionFailure = cause;
      }
      markPeerClosed();
      readable.signalAll();
      writable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- application side

  private int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    int n;
    long credit = 0;
    int flags = 0;
    lock.lock();
    try {
      // Reset and session failure win over buffered data: a proxied response must end
      // with an error, never look complete when it was cut off.
      failIfBroken(true);
      while (buffered == 0) {
        failIfBroken(true);
        if (remoteClosed) {
          return -1;
        }
        awaitUninterruptibly(readable, "read");
      }
      n = 0;
      while (n < len && buffered > 0) {
        byte[] head = chunks.peekFirst();
        int take = Math.min(len - n, head.length - headOffset);
        System.arraycopy(head, headOffset, b, off + n, take);
        n += take;
        headOffset += take;
        buffered -= take;
        if (headOffset == head.length) {
          chunks.removeFirst();
          headOffset = 0;
        }
      }
      uncredited += n;
      // Same rule as Go: return credit once at least half the window is free again, so
      // updates are few yet the sender never runs dry while we keep reading.
      if (uncredited >= maxWindow / 2 && !remoteClosed && !reset) {
        credit = uncredited;
        uncredited = 0;
        recvWindow += credit;
        flags = takeSendFlags();
      }
    } finally {
      lock.unlock();
    }
    if (credit > 0 && open()) {
      try {
        session.writeFrame(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, flags, id, (int) credit), null, 0, 0);
      } catch (IOException e) {
        // The bytes were delivered; the session failure surfaces on the next call.
      }
    }
    return n;
  }

  private void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    writeCallLock.lock();
    try {
      int maxPayload = session.config().maxFramePayload();
      while (len > 0) {
        int chunk;
        int flags;
        lock.lock();
        try {
          while (true) {
            failIfBroken(false);
            if (localClosed) {
              throw new IOException("yamux stream " + Integer.toUnsignedLong(id) + ": output closed");
            }
            if (sendWindow > 0) {
              break;
            }
            // Backpressure: wait for the peer's WindowUpdate instead of buffering.
            awaitUninterruptibly(writable, "write");
          }
          chunk = (int) Math.min(Math.min(len, sendWindow), maxPayload);
          sendWindow -= chunk;
          bytesSent += chunk;
          flags = takeSendFlags();
        } finally {
          lock.unlock();
        }
        session.writeFrame(YamuxHeader.of(YamuxHeader.TYPE_DATA, flags, id, chunk), b, off, chunk);
        off += chunk;
        len -= chunk;
      }
    } finally {
      writeCallLock.unlock();
    }
  }

  private void awaitUninterruptibly(Condition condition, String what) throws InterruptedIOException {
    try {
      condition.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted during yamux stream " + what);
    }
  }

  private void failIfBroken(boolean reading) throws IOException {
    if (reset) {
      throw new IOException("yamux stream " + Integer.toUnsignedLong(id)
          + (resetByPeer ? ": reset by peer" : ": reset"));
    }
    if (sessionFailure != null) {
      throw new IOException("yamux stream " + Integer.toUnsignedLong(id) + ": " + sessionFailure.getMessage(),
          sessionFailure);
    }
    if (reading && inputClosed) {
      throw new IOException("yamux stream " + Integer.toUnsignedLong(id) + ": input closed");
    }
  }

  /** Half-close: sends FIN; the peer's reads end with EOF once they drained our data. */
  public void closeOutput() throws IOException {
    int flags;
    boolean forget;
    lock.lock();
    try {
      if (localClosed || reset || sessionFailure != null) {
        return;
      }
      localClosed = true;
      flags = takeSendFlags() | YamuxHeader.FLAG_FIN;
      forget = remoteClosed;
      writable.signalAll();
    } finally {
      lock.unlock();
    }
    // Go sends FIN on a WindowUpdate frame with increment 0; so do we.
    session.writeFrame(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, flags, id, 0), null, 0, 0);
    if (forget) {
      session.forgetStream(id);
    }
  }

  /** Stops reading: buffered and later data is discarded, its credit returned to the peer so a
   *  sender that does not know we stopped is not blocked forever. */
  public void closeInput() {
    discardInput(true);
  }

  /** Discards what was received and will be; {@code credit}: return the window for it to the peer. */
  private void discardInput(boolean credit) {
    long freed;
    lock.lock();
    try {
      if (inputClosed) {
        return;
      }
      inputClosed = true;
      freed = buffered + uncredited;
      chunks.clear();
      headOffset = 0;
      buffered = 0;
      uncredited = 0;
      recvWindow += freed;
      readable.signalAll();
      if (!credit || remoteClosed || reset || sessionFailure != null) {
        freed = 0;
      }
    } finally {
      lock.unlock();
    }
    if (freed > 0) {
      sendCreditAsync(freed);
    }
  }

  /** Aborts the stream in both directions with RST; pending and later reads and writes on both
   *  ends fail with an IOException. */
  public void reset() {
    lock.lock();
    try {
      if (reset || sessionFailure != null) {
        return;
      }
      reset = true;
      readable.signalAll();
      writable.signalAll();
    } finally {
      lock.unlock();
    }
    session.forgetStream(id);
    try {
      session.writeFrame(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0), null, 0, 0);
    } catch (IOException ignored) {
      // Session gone: the peer's stream dies with it.
    }
  }

  /** Closes both halves: FIN to the peer and discard of anything not yet read. */
  @Override
  public void close() throws IOException {
    try {
      closeOutput();
    } finally {
      // No credit for what is thrown away: the stream is closing, and a window update racing the
      // peer's FIN would reach a peer that already forgot the stream ("frame for missing stream").
      discardInput(false);
      resetUnlessPeerClosesWithin(session.config().streamCloseTimeout());
    }
  }

  /** A fully closed stream stays registered until the peer's FIN; a peer that never sends it
   *  would leak the stream, so give up with RST after the timeout (as Go does). */
  private void resetUnlessPeerClosesWithin(java.time.Duration timeout) {
    lock.lock();
    try {
      if (remoteClosed || reset || sessionFailure != null) {
        return;
      }
    } finally {
      lock.unlock();
    }
    Thread.ofVirtual().name("yamux-close-timeout-" + Integer.toUnsignedLong(id)).start(() -> {
      long deadline = System.nanoTime() + timeout.toNanos();
      lock.lock();
      try {
        long left;
        while (!remoteClosed && !reset && sessionFailure == null
            && (left = deadline - System.nanoTime()) > 0) {
          readable.awaitNanos(left);
        }
        if (remoteClosed || reset || sessionFailure != null) {
          return;
        }
      } catch (InterruptedException e) {
        return;
      } finally {
        lock.unlock();
      }
      reset();
    });
  }

  @Override
  public String toString() {
    return "YamuxStream[" + Integer.toUnsignedLong(id) + "]";
  }

  private final class StreamInput extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = YamuxStream.this.read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return YamuxStream.this.read(b, off, len);
    }

    @Override
    public int available() {
      return bufferedBytes();
    }

    @Override
    public void close() {
      closeInput();
    }
  }

  private final class StreamOutput extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      YamuxStream.this.write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      YamuxStream.this.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      closeOutput();
    }
  }
}
