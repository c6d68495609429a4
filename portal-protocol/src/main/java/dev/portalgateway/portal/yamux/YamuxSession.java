package dev.portalgateway.portal.yamux;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A yamux session (hashicorp/yamux wire format) over any byte-stream transport.
 *
 * <p>Threading: one reader thread (virtual) demultiplexes incoming frames and never writes to
 * the transport itself, so a peer that stops reading cannot stall our reader and with it every
 * stream; replies the reader owes (ping ACKs, RSTs) go out on short-lived virtual threads. All
 * writes take one lock and send a whole frame (header and body as one {@code write}), so frames
 * never interleave. Callers block in plain blocking I/O; this is meant for virtual threads.
 *
 * <p>The {@link Role#CLIENT client} opens odd stream IDs, the {@link Role#SERVER server} even
 * ones. The gateway is always the client; the relay is the server.
 */
public final class YamuxSession implements Closeable {
  /** Go's yamux backlog of streams opened but not yet accepted by the peer. */
  static final int MAX_UNACKNOWLEDGED_OPENS = 256;

  private final java.util.concurrent.Semaphore unacknowledgedOpens =
      new java.util.concurrent.Semaphore(MAX_UNACKNOWLEDGED_OPENS);
  private final java.util.Set<Integer> awaitingAck = java.util.concurrent.ConcurrentHashMap.newKeySet();


  /** Which side of the session we are: decides the parity of the stream IDs we open. */
  public enum Role { CLIENT, SERVER }

  private final InputStream in;
  private final OutputStream out;
  private final Closeable transport;
  private final YamuxConfig config;
  private final Role role;
  private final String name;

  private final ReentrantLock writeLock = new ReentrantLock();
  /** System.nanoTime() when the current transport write started, 0 when none is in progress. */
  private volatile long writeStartedNanos;

  private final Map<Integer, YamuxStream> streams = new ConcurrentHashMap<>();
  private final BlockingQueue<YamuxStream> acceptQueue;
  private final AtomicInteger nextStreamId;
  private final AtomicInteger nextPingId = new AtomicInteger();
  private final Map<Integer, PendingPing> pings = new ConcurrentHashMap<>();

  private volatile boolean localGoAway;
  private volatile boolean remoteGoAway;
  private volatile int remoteGoAwayCode = -1;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile IOException closeCause;
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
  private Thread readerThread;
  private Thread keepaliveThread;

  /** The peer ended the session with an error GoAway. */
  private static final class PeerGoAwayException extends IOException {
    PeerGoAwayException(String message) {
      super(message);
    }
  }

  private record PendingPing(long sentNanos, CompletableFuture<Long> rttNanos) { }

  /**
   * Creates a session; call {@link #start()} to begin reading.
   *
   * @param transport closed when the session ends; closing it must unblock pending reads and
   *                  writes on {@code in}/{@code out} (a socket, a WebSocket byte stream)
   */
  public YamuxSession(InputStream in, OutputStream out, Closeable transport, Role role,
            YamuxConfig config, String name) {
    this.in = in;
    this.out = out;
    this.transport = transport;
    this.role = role;
    this.config = config;
    this.name = name;
    this.acceptQueue = new ArrayBlockingQueue<>(config.acceptBacklog());
    this.nextStreamId = new AtomicInteger(role == Role.CLIENT ? 1 : 2);
  }

  /** Creates and starts a client session (odd stream IDs) with default settings. */
  public static YamuxSession client(InputStream in, OutputStream out, Closeable transport) {
    return new YamuxSession(in, out, transport, Role.CLIENT, YamuxConfig.defaults(), "yamux-client").start();
  }

  /** Creates and starts a server session (even stream IDs) with default settings. */
  public static YamuxSession server(InputStream in, OutputStream out, Closeable transport) {
    return new YamuxSession(in, out, transport, Role.SERVER, YamuxConfig.defaults(), "yamux-server").start();
  }

  /** Starts the reader thread and, if configured, the keepalive thread. Returns {@code this}. */
  public synchronized YamuxSession start() {
    if (readerThread != null) {
      return this;
    }
    readerThread = Thread.ofVirtual().name(name + "-reader").start(this::readLoop);
    if (!config.keepaliveInterval().isZero()) {
      keepaliveThread = Thread.ofVirtual().name(name + "-keepalive").start(this::keepaliveLoop);
    }
    return this;
  }

  public Role role() {
    return role;
  }

  YamuxConfig config() {
    return config;
  }

  /**
   * Completes when the session has ended: normally after our own {@link #close()},
   * exceptionally with the cause for every other ending (transport EOF or failure, unanswered
   * keepalive, blocked write, protocol error, error GoAway). Meant for reconnect logic: the Go
   * relay's Close does not send GoAway and gorilla closes the TCP connection without a close
   * frame, so a relay going away normally shows up here as an exceptional completion too.
   */
  public CompletableFuture<Void> closeFuture() {
    return closeFuture;
  }

  public boolean isClosed() {
    return closed.get();
  }

  /** Whether the peer sent GoAway (no new streams in either direction will succeed). */
  public boolean isRemoteGoAway() {
    return remoteGoAway;
  }

  /** The code of the peer's GoAway, or -1 if none arrived. */
  public int remoteGoAwayCode() {
    return remoteGoAwayCode;
  }

  /** Number of streams currently tracked (open or half-closed). */
  public int streamCount() {
    return streams.size();
  }

  // ---------------------------------------------------------------- opening and accepting

  /**
   * Opens a stream: sends WindowUpdate with SYN (increment 0 with the default window), as the
   * Go side does. Does not wait for the peer's ACK; data may follow at once.
   */
  public YamuxStream openStream() throws IOException {
    ensureOpen();
    if (remoteGoAway) {
      throw new IOException("yamux: peer sent GoAway, cannot open new streams");
    }
    if (localGoAway) {
      throw new IOException("yamux: session is shutting down");
    }
    // Like Go's yamux, at most 256 opened streams wait for the peer's ACK at a time: a Go peer
    // accepts from a backlog of that size and resets what overflows it.
    try {
      while (!unacknowledgedOpens.tryAcquire(100, TimeUnit.MILLISECONDS)) {
        ensureOpen();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to open a yamux stream");
    }
    int id = nextStreamId.getAndAdd(2);
    if (id < 0) {
      unacknowledgedOpens.release();
      throw new IOException("yamux: stream IDs exhausted");
    }
    YamuxStream stream = new YamuxStream(this, id, config.streamWindow(), false);
    awaitingAck.add(id);
    streams.put(id, stream);
    try {
      stream.sendWindowUpdateWithFlags(YamuxHeader.FLAG_SYN);
    } catch (IOException e) {
      forgetStream(id);
      throw e;
    }
    return stream;
  }

  /**
   * Waits for the next stream the peer opened and acknowledges it (ACK goes out now, like Go's
   * AcceptStream). Go closes the whole session if a stream it opened is not ACKed within 75 s,
   * so keep an accept loop running.
   *
   * @throws IOException when the session is closed
   */
  public YamuxStream acceptStream() throws IOException {
    while (true) {
      YamuxStream stream;
      try {
        stream = acceptQueue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while accepting a yamux stream");
      }
      if (stream != null) {
        stream.acknowledge();
        return stream;
      }
      ensureOpen();
    }
  }

  // ---------------------------------------------------------------- ping

  /** Sends a ping and waits (up to the configured ping timeout) for its answer; returns the RTT. */
  public Duration ping() throws IOException {
    return ping(config.pingTimeout());
  }

  /** Sends a ping and waits up to {@code timeout} for the ACK; returns the round-trip time. */
  public Duration ping(Duration timeout) throws IOException {
    ensureOpen();
    int id = nextPingId.getAndIncrement();
    PendingPing pending = new PendingPing(System.nanoTime(), new CompletableFuture<>());
    pings.put(id, pending);
    try {
      writeFrame(YamuxHeader.of(YamuxHeader.TYPE_PING, YamuxHeader.FLAG_SYN, 0, id), null, 0, 0);
      long rtt = pending.rttNanos().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return Duration.ofNanos(rtt);
    } catch (TimeoutException e) {
      throw new IOException("yamux: ping not answered within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a yamux ping");
    } catch (ExecutionException e) {
      throw asIOException(e.getCause());
    } finally {
      pings.remove(id);
    }
  }

  private void keepaliveLoop() {
    long intervalNanos = config.keepaliveInterval().toNanos();
    while (!closed.get()) {
      try {
        // Check blocked writes more often than we ping: Go treats a write stuck for the
        // write timeout as a dead connection, and a stuck write would also stall our ping.
        long deadline = System.nanoTime() + intervalNanos;
        while (!closed.get() && System.nanoTime() < deadline) {
          Thread.sleep(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()), 250)));
          checkWriteTimeout();
        }
        if (closed.get()) {
          return;
        }
        ping();
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        closeWithError(new IOException("yamux: keepalive failed: " + e.getMessage(), e),
            YamuxHeader.GO_AWAY_INTERNAL_ERROR);
        return;
      }
    }
  }

  private void checkWriteTimeout() {
    long started = writeStartedNanos;
    if (started != 0 && System.nanoTime() - started > config.writeTimeout().toNanos()) {
      closeWithError(new IOException("yamux: transport write blocked for more than "
          + config.writeTimeout()), -1);
    }
  }

  // ---------------------------------------------------------------- writing

  /**
   * Writes one frame (header plus optional body) atomically with respect to other frames.
   */
  void writeFrame(YamuxHeader header, byte[] body, int offset, int length) throws IOException {
    byte[] frame = new byte[YamuxHeader.SIZE + length];
    header.encodeInto(frame, 0);
    if (length > 0) {
      System.arraycopy(body, offset, frame, YamuxHeader.SIZE, length);
    }
    try {
      writeLock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to write a yamux frame");
    }
    try {
      ensureOpen();
      writeStartedNanos = System.nanoTime();
      out.write(frame);
      out.flush();
    } catch (IOException e) {
      if (!closed.get()) {
        closeWithError(new IOException("yamux: transport write failed: " + e.getMessage(), e), -1);
      }
      throw closedException();
    } finally {
      writeStartedNanos = 0;
      writeLock.unlock();
    }
  }

  /** Sends a control frame from the reader thread without letting it block on the transport. */
  private void writeFrameAsync(YamuxHeader header) {
    Thread.ofVirtual().name(name + "-control").start(() -> {
      try {
        writeFrame(header, null, 0, 0);
      } catch (IOException ignored) {
        // The session is already closing; nothing else to tell the peer.
      }
    });
  }

  // ---------------------------------------------------------------- reading

  private void readLoop() {
    byte[] headerBytes = new byte[YamuxHeader.SIZE];
    try {
      while (true) {
        if (!readFully(headerBytes, 0, YamuxHeader.SIZE, true)) {
          closeWithError(new EOFException("yamux: transport reached end of stream"), -1);
          return;
        }
        YamuxHeader header = YamuxHeader.decode(headerBytes, 0);
        switch (header.type()) {
          case YamuxHeader.TYPE_DATA, YamuxHeader.TYPE_WINDOW_UPDATE -> handleStreamFrame(header);
          case YamuxHeader.TYPE_PING -> handlePing(header);
          case YamuxHeader.TYPE_GO_AWAY -> handleGoAway(header);
          default -> throw new YamuxProtocolException("unknown frame type " + header.type());
        }
      }
    } catch (YamuxProtocolException e) {
      closeWithError(e, YamuxHeader.GO_AWAY_PROTOCOL_ERROR);
    } catch (PeerGoAwayException e) {
      closeWithError(new IOException("yamux: " + e.getMessage(), e), -1);
    } catch (IOException e) {
      closeWithError(closed.get() ? e : new IOException("yamux: transport read failed: " + e.getMessage(), e), -1);
    } catch (RuntimeException e) {
      closeWithError(new IOException("yamux: internal error: " + e, e), YamuxHeader.GO_AWAY_INTERNAL_ERROR);
    }
  }

  /** Reads exactly {@code length} bytes; returns false on a clean EOF before the first byte
   *  when {@code eofAllowed}. Transports may deliver a frame in arbitrary pieces. */
  private boolean readFully(byte[] buf, int offset, int length, boolean eofAllowed) throws IOException {
    int done = 0;
    while (done < length) {
      int n = in.read(buf, offset + done, length - done);
      if (n < 0) {
        if (done == 0 && eofAllowed) {
          return false;
        }
        throw new EOFException("yamux: transport ended in the middle of a frame");
      }
      done += n;
    }
    return true;
  }

  private void skipFully(long length) throws IOException {
    byte[] scratch = new byte[(int) Math.min(length, 16 * 1024)];
    long left = length;
    while (left > 0) {
      int chunk = (int) Math.min(left, scratch.length);
      readFully(scratch, 0, chunk, false);
      left -= chunk;
    }
  }

  private void handleStreamFrame(YamuxHeader header) throws IOException {
    int id = header.streamId();
    long length = Integer.toUnsignedLong(header.length());
    boolean isData = header.type() == YamuxHeader.TYPE_DATA;
    YamuxStream stream;
    if (header.has(YamuxHeader.FLAG_SYN)) {
      stream = incomingStream(id);
      if (stream == null) {
        // Refused (GoAway or full backlog): the RST is on its way; drop any payload.
        if (isData) {
          skipFully(length);
        }
        return;
      }
    } else {
      stream = streams.get(id);
    }
    if (stream == null) {
      // A frame for a stream we already forgot (closed or reset): like Go, drop it quietly.
      if (isData) {
        skipFully(length);
      }
      return;
    }
    if (isData) {
      stream.receiveData(header.flags(), length, in);
    } else {
      stream.receiveWindowUpdate(header.flags(), length);
    }
  }

  private YamuxStream incomingStream(int id) throws IOException {
    if (id == 0) {
      throw new YamuxProtocolException("SYN on stream 0");
    }
    if (streams.containsKey(id)) {
      throw new YamuxProtocolException("duplicate SYN for stream " + Integer.toUnsignedLong(id));
    }
    if (localGoAway || closed.get()) {
      writeFrameAsync(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0));
      return null;
    }
    YamuxStream stream = new YamuxStream(this, id, config.streamWindow(), true);
    streams.put(id, stream);
    if (!acceptQueue.offer(stream)) {
      streams.remove(id);
      writeFrameAsync(YamuxHeader.of(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0));
      return null;
    }
    return stream;
  }

  private void handlePing(YamuxHeader header) {
    if (header.has(YamuxHeader.FLAG_SYN)) {
      writeFrameAsync(YamuxHeader.of(YamuxHeader.TYPE_PING, YamuxHeader.FLAG_ACK, 0, header.length()));
    } else if (header.has(YamuxHeader.FLAG_ACK)) {
      PendingPing pending = pings.get(header.length());
      if (pending != null) {
        pending.rttNanos().complete(System.nanoTime() - pending.sentNanos());
      }
    }
  }

  private void handleGoAway(YamuxHeader header) throws IOException {
    remoteGoAwayCode = header.length();
    remoteGoAway = true;
    switch (header.length()) {
      // Normal: existing streams continue (as in Go); only new opens are refused. When the
      // peer then closes the transport, the read loop ends the session.
      case YamuxHeader.GO_AWAY_NORMAL -> { }
      // Like hashicorp/yamux, an error GoAway ends the session at once.
      case YamuxHeader.GO_AWAY_PROTOCOL_ERROR -> throw new PeerGoAwayException("peer sent GoAway: protocol error");
      case YamuxHeader.GO_AWAY_INTERNAL_ERROR -> throw new PeerGoAwayException("peer sent GoAway: internal error");
      default -> throw new PeerGoAwayException("peer sent GoAway with unknown code "
          + Integer.toUnsignedLong(header.length()));
    }
  }

  // ---------------------------------------------------------------- closing

  void forgetStream(int id) {
    streams.remove(id);
    streamEstablished(id);
  }

  /** The peer answered a stream we opened (ACK or RST), or the stream is gone: free its slot. */
  void streamEstablished(int id) {
    if (awaitingAck.remove(id)) {
      unacknowledgedOpens.release();
    }
  }

  /** Sends GoAway(normal), stops accepting new streams, then closes the transport and every
   *  stream (their pending reads and writes fail with an IOException). */
  @Override
  public void close() {
    if (closed.get()) {
      return;
    }
    localGoAway = true;
    closeWithError(null, YamuxHeader.GO_AWAY_NORMAL);
  }

  /** Ends the session. {@code cause == null} means a local, orderly close. {@code goAwayCode}
   *  of -1 skips the GoAway (the transport is already unusable). */
  private void closeWithError(IOException cause, int goAwayCode) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    localGoAway = true;
    closeCause = cause;
    if (goAwayCode >= 0) {
      trySendGoAway(goAwayCode);
    }
    try {
      transport.close();
    } catch (IOException ignored) {
      // Already broken; the streams learn about it below.
    }
    IOException streamCause = closedException();
    for (YamuxStream stream : new ArrayList<>(streams.values())) {
      stream.sessionClosed(streamCause);
    }
    streams.clear();
    YamuxStream pending;
    while ((pending = acceptQueue.poll()) != null) {
      pending.sessionClosed(streamCause);
    }
    for (PendingPing ping : pings.values()) {
      ping.rttNanos().completeExceptionally(streamCause);
    }
    if (keepaliveThread != null && Thread.currentThread() != keepaliveThread) {
      keepaliveThread.interrupt();
    }
    if (cause == null) {
      closeFuture.complete(null);
    } else {
      closeFuture.completeExceptionally(cause);
    }
  }

  /** GoAway is best effort: if another writer holds the transport for long, don't wait. */
  private void trySendGoAway(int code) {
    byte[] frame = YamuxHeader.of(YamuxHeader.TYPE_GO_AWAY, 0, 0, code).encode();
    try {
      if (writeLock.tryLock(1, TimeUnit.SECONDS)) {
        try {
          out.write(frame);
          out.flush();
        } finally {
          writeLock.unlock();
        }
      }
    } catch (IOException ignored) {
      // The transport is going away anyway.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void ensureOpen() throws IOException {
    if (closed.get()) {
      throw closedException();
    }
  }

  IOException closedException() {
    IOException cause = closeCause;
    if (cause == null) {
      return new IOException("yamux: session closed");
    }
    return new IOException("yamux: session closed: " + cause.getMessage(), cause);
  }

  private static IOException asIOException(Throwable t) {
    return t instanceof IOException io ? io : new IOException(t);
  }

  @Override
  public String toString() {
    return name + "[" + role + (closed.get() ? ", closed" : "") + "]";
  }
}
