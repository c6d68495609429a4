package dev.portalgateway.portal.ws;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.exceptions.WebsocketNotConnectedException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ServerHandshake;

/**
 * A Java-WebSocket connection seen as one byte stream, the way the Portal relay uses WebSocket:
 * the payloads of consecutive binary messages, concatenated, are the input (message boundaries
 * carry no meaning; the Go side writes a yamux header and its body as separate messages), each
 * {@code write} becomes one binary message, and a close frame is end-of-stream. A text message is
 * a protocol error: the connection is closed with 1003 and reads fail.
 *
 * <p><b>Inbound backpressure.</b> Received messages wait in a queue bounded in bytes. When it is
 * full, the Java-WebSocket thread delivering the message blocks until the consumer catches up,
 * so the library stops reading the socket and TCP flow control pushes back on the peer. We chose
 * blocking over failing because the consumer (a yamux reader) drains continuously and yamux's
 * own windows already bound what can be in flight; a short stall must not kill a healthy
 * session. Caveat: on the server side Java-WebSocket's decoder threads are shared between
 * connections, so a stalled consumer there also delays its neighbours (acceptable for the
 * development relay). A single message larger than the bound is still accepted when the queue is
 * empty, so a big message cannot deadlock the stream.
 *
 * <p><b>Outbound.</b> Java-WebSocket sends asynchronously from an unbounded queue; {@code write}
 * waits while more than the outbound bound is queued, so a slow peer blocks the writer instead of
 * growing memory.
 */
public final class WebSocketByteStream implements Closeable {

  /** Default bound of queued inbound bytes. */
  public static final int DEFAULT_MAX_INBOUND_BYTES = 4 * 1024 * 1024;
  /**
   * The largest WebSocket frame or message accepted: 4 MiB. The relay sends yamux frames, whose
   * bodies never exceed the 256 KiB stream window, in messages of their own.
   */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  /** Bytes we let Java-WebSocket queue for sending before {@code write} waits. */
  static final int MAX_OUTBOUND_QUEUED_BYTES = 1024 * 1024;

  private final String url;
  private final int maxInboundBytes;
  private volatile WebSocket connection;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition dataAvailable = lock.newCondition();
  private final Condition spaceAvailable = lock.newCondition();
  private final ArrayDeque<ByteBuffer> inbound = new ArrayDeque<>();
  private long queuedBytes;
  private boolean endOfStream;
  private boolean closedLocally;
  private IOException failure;

  private final InputStream input = new ByteStreamInput();
  private final OutputStream output = new ByteStreamOutput();

  WebSocketByteStream(String url, int maxInboundBytes) {
    this.url = url;
    this.maxInboundBytes = maxInboundBytes;
  }

  void attach(WebSocket connection) {
    this.connection = connection;
  }

  /**
   * The WebSocket protocol settings of a relay connection, both ends (the gateway's client and the
   * development relay), including the frame decoder: RFC 6455
   * with no extension, and frames and messages of at most {@link #MAX_MESSAGE_BYTES}.
   * Java-WebSocket's default limit is {@code Integer.MAX_VALUE}, and its decoder allocates a
   * frame's whole buffer as soon as the frame's length has arrived, so ten bytes from a relay
   * could make the gateway allocate 2 GiB (found by {@code WebSocketFuzzTest.frames}). A larger
   * frame now closes the connection with 1009, which ends the stream with an error.
   */
  static org.java_websocket.drafts.Draft_6455 relayDraft() {
    return new org.java_websocket.drafts.Draft_6455(java.util.Collections.emptyList(), MAX_MESSAGE_BYTES);
  }

  /** The underlying Java-WebSocket connection (tests use it to send text and raw frames). */
  WebSocket connection() {
    return connection;
  }

  /** Inbound bytes received and not yet read. */
  long queuedInboundBytes() {
    lock.lock();
    try {
      return queuedBytes;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Connects a client to {@code uri} ({@code ws://} or {@code wss://}), waiting at most
   * {@code timeout} for the TCP connection and the WebSocket handshake together.
   *
   * @throws IOException with the URL in its message when the connection cannot be established
   */
  public static WebSocketByteStream connect(URI uri, Duration timeout, Map<String, String> headers)
      throws IOException {
    String url = uri.toString();
    WebSocketByteStream stream = new WebSocketByteStream(url, DEFAULT_MAX_INBOUND_BYTES);
    int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    ClientEndpoint client = new ClientEndpoint(uri, headers, timeoutMillis, stream);
    // yamux keepalive covers liveness, but WebSocket ping/pong also catches a dead TCP path.
    client.setConnectionLostTimeout(60);
    stream.attach(client);
    boolean open;
    try {
      open = client.connectBlocking(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      client.close();
      throw new InterruptedIOException("interrupted while connecting WebSocket to " + url);
    }
    if (!open) {
      Exception cause = client.connectFailure;
      client.close();
      if (cause != null) {
        throw new IOException("WebSocket connect to " + url + " failed: " + cause, cause);
      }
      if (client.closeReason != null) {
        throw new IOException("WebSocket connect to " + url + " failed: " + client.closeReason);
      }
      throw new IOException("WebSocket connect to " + url + " timed out after " + timeout);
    }
    return stream;
  }

  /** Connects without extra headers. */
  public static WebSocketByteStream connect(URI uri, Duration timeout) throws IOException {
    return connect(uri, timeout, Map.of());
  }

  /** The URL this stream is connected to (client) or was reached at (server). */
  public String url() {
    return url;
  }

  public InputStream getInputStream() {
    return input;
  }

  public OutputStream getOutputStream() {
    return output;
  }

  /** Sends a normal close frame; pending and later reads end, writes fail. */
  @Override
  public void close() {
    lock.lock();
    try {
      closedLocally = true;
      dataAvailable.signalAll();
      spaceAvailable.signalAll();
    } finally {
      lock.unlock();
    }
    WebSocket ws = connection;
    if (ws != null) {
      ws.close(CloseFrame.NORMAL);
    }
  }

  // ---------------------------------------------------------------- events from Java-WebSocket

  /** A binary message arrived; blocks while the inbound queue is full (see class comment). */
  void deliver(ByteBuffer message) {
    int size = message.remaining();
    if (size == 0) {
      return;
    }
    ByteBuffer copy = ByteBuffer.allocate(size).put(message).flip();
    lock.lock();
    try {
      while (queuedBytes > 0 && queuedBytes + size > maxInboundBytes && !closedLocally
          && failure == null) {
        spaceAvailable.awaitUninterruptibly();
      }
      if (closedLocally || failure != null) {
        return;
      }
      inbound.addLast(copy);
      queuedBytes += size;
      dataAvailable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** A text message arrived: not part of the protocol. */
  void deliverText() {
    fail(new IOException("WebSocket " + url + ": unexpected text message (only binary carries data)"));
    WebSocket ws = connection;
    if (ws != null) {
      ws.close(CloseFrame.REFUSE, "text messages are not supported");
    }
  }

  /** The connection closed. A close frame from either side is end-of-stream; a connection that
   *  died without one (1006), or that was closed for a message over the limit (1009), is an error. */
  void closed(int code, String reason, boolean remote) {
    if (code == CloseFrame.ABNORMAL_CLOSE || code == CloseFrame.NEVER_CONNECTED) {
      fail(new IOException("WebSocket " + url + " lost: " + (reason == null || reason.isEmpty()
          ? "connection closed without a close frame" : reason)));
      return;
    }
    if (code == CloseFrame.TOOBIG) {
      fail(new IOException("WebSocket " + url + " closed: a message exceeded " + MAX_MESSAGE_BYTES + " bytes"));
      return;
    }
    lock.lock();
    try {
      endOfStream = true;
      dataAvailable.signalAll();
      spaceAvailable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  void fail(IOException cause) {
    lock.lock();
    try {
      if (failure == null && !endOfStream) {
        failure = cause;
      }
      dataAvailable.signalAll();
      spaceAvailable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- stream side

  private int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    lock.lock();
    try {
      while (inbound.isEmpty()) {
        if (closedLocally) {
          throw new IOException("WebSocket " + url + ": closed");
        }
        if (failure != null) {
          throw new IOException(failure.getMessage(), failure);
        }
        if (endOfStream) {
          return -1;
        }
        try {
          dataAvailable.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while reading WebSocket " + url);
        }
      }
      int n = 0;
      while (n < len && !inbound.isEmpty()) {
        ByteBuffer head = inbound.peekFirst();
        int take = Math.min(len - n, head.remaining());
        head.get(b, off + n, take);
        n += take;
        if (!head.hasRemaining()) {
          inbound.removeFirst();
        }
      }
      queuedBytes -= n;
      spaceAvailable.signalAll();
      return n;
    } finally {
      lock.unlock();
    }
  }

  private void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return;
    }
    WebSocket ws = connection;
    awaitOutboundSpace(ws);
    ByteBuffer message = ByteBuffer.allocate(len).put(b, off, len).flip();
    try {
      ws.send(message);
    } catch (WebsocketNotConnectedException e) {
      throw new IOException("WebSocket " + url + ": not connected", e);
    }
  }

  private void awaitOutboundSpace(WebSocket ws) throws IOException {
    while (true) {
      checkWritable(ws);
      if (!(ws instanceof WebSocketImpl impl) || queuedOutbound(impl) < MAX_OUTBOUND_QUEUED_BYTES) {
        return;
      }
      // Java-WebSocket offers no "writable" signal; a short sleep is cheap on a virtual
      // thread and only happens while the peer is not keeping up.
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while writing WebSocket " + url);
      }
    }
  }

  private static long queuedOutbound(WebSocketImpl impl) {
    long total = 0;
    for (ByteBuffer buffer : impl.outQueue) {
      total += buffer.remaining();
    }
    return total;
  }

  private void checkWritable(WebSocket ws) throws IOException {
    lock.lock();
    try {
      if (closedLocally) {
        throw new IOException("WebSocket " + url + ": closed");
      }
      if (failure != null) {
        throw new IOException(failure.getMessage(), failure);
      }
    } finally {
      lock.unlock();
    }
    if (ws == null || ws.isClosing() || ws.isClosed()) {
      throw new IOException("WebSocket " + url + ": connection closed");
    }
  }

  @Override
  public String toString() {
    return "WebSocketByteStream[" + url + "]";
  }

  private final class ByteStreamInput extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = WebSocketByteStream.this.read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return WebSocketByteStream.this.read(b, off, len);
    }

    @Override
    public void close() {
      WebSocketByteStream.this.close();
    }
  }

  private final class ByteStreamOutput extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      WebSocketByteStream.this.write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      WebSocketByteStream.this.write(b, off, len);
    }

    @Override
    public void close() {
      WebSocketByteStream.this.close();
    }
  }

  /** The Java-WebSocket client whose callbacks feed a {@link WebSocketByteStream}. */
  private static final class ClientEndpoint extends WebSocketClient {
    private final WebSocketByteStream stream;
    volatile Exception connectFailure;
    volatile String closeReason;

    ClientEndpoint(URI uri, Map<String, String> headers, int connectTimeoutMillis,
           WebSocketByteStream stream) {
      super(uri, relayDraft(), headers, connectTimeoutMillis);
      this.stream = stream;
      setTcpNoDelay(true); // small request/answer frames must not wait for a delayed ACK (Nagle)
    }

    @Override
    public void onOpen(ServerHandshake handshake) {
      // Nothing to do: connectBlocking returns once the handshake completed.
    }

    @Override
    public void onMessage(String message) {
      stream.deliverText();
    }

    @Override
    public void onMessage(ByteBuffer bytes) {
      stream.deliver(bytes);
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
      closeReason = "closed with code " + code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")");
      stream.closed(code, reason, remote);
    }

    @Override
    public void onError(Exception ex) {
      if (connectFailure == null) {
        connectFailure = ex;
      }
      stream.fail(new IOException("WebSocket " + stream.url + " failed: " + ex, ex));
    }
  }

}
