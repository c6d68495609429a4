package dev.portalgateway.plugins.ratelimit;

import java.util.Arrays;

/**
 * A growable run of bytes, appended at the tail and taken from the head: the bytes of one server-sent
 * event, the side copy of a JSON body, or output waiting for its reader. Not thread-safe.
 */
final class ByteQueue {
  /** Beyond this capacity a cleared queue lets its array go, so one large event does not pin memory. */
  private static final int KEEP_CAPACITY = 64 * 1024;
  private static final int INITIAL_CAPACITY = 256;

  private byte[] bytes = new byte[INITIAL_CAPACITY];
  private int head;
  private int tail;

  /** @return the number of bytes held */
  int size() {
    return tail - head;
  }

  boolean isEmpty() {
    return tail == head;
  }

  /** @return the array holding the bytes, from {@link #start()}, for reading in place */
  byte[] array() {
    return bytes;
  }

  /** @return the index in {@link #array()} of the first byte */
  int start() {
    return head;
  }

  void append(byte b) {
    if (tail == bytes.length) {
      makeRoom(1);
    }
    bytes[tail++] = b;
  }

  void append(byte[] b, int off, int len) {
    if (tail + len > bytes.length) {
      makeRoom(len);
    }
    System.arraycopy(b, off, bytes, tail, len);
    tail += len;
  }

  /** Moves every byte of {@code other} here, leaving it empty. */
  void appendAndClear(ByteQueue other) {
    append(other.bytes, other.head, other.size());
    other.clear();
  }

  /**
   * Moves bytes from the head into {@code b}.
   *
   * @return the number of bytes moved, at most {@code len}
   */
  int take(byte[] b, int off, int len) {
    int n = Math.min(len, size());
    System.arraycopy(bytes, head, b, off, n);
    head += n;
    if (head == tail) {
      clear();
    }
    return n;
  }

  /** @return whether the bytes held are exactly {@code ascii} */
  boolean contentEquals(byte[] ascii) {
    return Arrays.equals(bytes, head, tail, ascii, 0, ascii.length);
  }

  void clear() {
    head = 0;
    tail = 0;
    if (bytes.length > KEEP_CAPACITY) {
      bytes = new byte[INITIAL_CAPACITY];
    }
  }

  private void makeRoom(int more) {
    int size = size();
    if (head > 0 && size + more <= bytes.length) {
      // Taking from the head left room at the front: slide down instead of growing.
      System.arraycopy(bytes, head, bytes, 0, size);
    } else {
      byte[] grown = new byte[Math.max(bytes.length * 2, size + more)];
      System.arraycopy(bytes, head, grown, 0, size);
      bytes = grown;
    }
    head = 0;
    tail = size;
  }
}
