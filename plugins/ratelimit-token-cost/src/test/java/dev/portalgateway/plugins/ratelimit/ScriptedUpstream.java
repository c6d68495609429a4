package dev.portalgateway.plugins.ratelimit;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upstream body the test writes as it goes: a read blocks until the test sends bytes, ends the
 * body or fails it. Unlike a pipe, closing it wakes a blocked read, as closing a socket does.
 */
final class ScriptedUpstream extends InputStream {
  private static final Object END = new Object();
  private static final Object WAKE = new Object();

  private final LinkedBlockingQueue<Object> script = new LinkedBlockingQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicLong bytesRead = new AtomicLong();
  private volatile boolean isClosed;
  private byte[] current;
  private int pos;
  private boolean ended;

  void send(String text) {
    script.add(text.getBytes(StandardCharsets.UTF_8));
  }

  void finish() {
    script.add(END);
  }

  void fail(IOException e) {
    script.add(e);
  }

  /** @return whether the stream was closed within ten seconds */
  boolean awaitClosed() throws InterruptedException {
    return closed.await(10, TimeUnit.SECONDS);
  }

  boolean isClosed() {
    return isClosed;
  }

  /** @return the bytes handed out so far */
  long bytesRead() {
    return bytesRead.get();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (isClosed) {
      throw new IOException("upstream closed");
    }
    if (ended) {
      return -1;
    }
    while (current == null || pos == current.length) {
      Object next;
      try {
        next = script.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      }
      if (isClosed) {
        throw new IOException("upstream closed");
      }
      if (next == END) {
        ended = true;
        return -1;
      }
      if (next instanceof IOException e) {
        throw e;
      }
      if (next != WAKE) {
        current = (byte[]) next;
        pos = 0;
      }
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, b, off, n);
    pos += n;
    bytesRead.addAndGet(n);
    return n;
  }

  @Override
  public void close() {
    isClosed = true;
    script.add(WAKE);
    closed.countDown();
  }
}
