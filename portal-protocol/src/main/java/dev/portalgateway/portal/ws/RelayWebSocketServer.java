package dev.portalgateway.portal.ws;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.java_websocket.WebSocket;
import org.java_websocket.drafts.Draft;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;

/**
 * The WebSocket side of a development relay: accepts connections on {@value #PATH} and hands each
 * one, as a {@link WebSocketByteStream}, to a callback (which typically runs a yamux server
 * session on it). Handshakes for any other path are refused.
 *
 * <p>The callback runs on its own virtual thread, so it may block; Java-WebSocket's own threads
 * are never held by it.
 */
public final class RelayWebSocketServer extends WebSocketServer {

  /** The only path the Portal relay serves WebSocket on. */
  public static final String PATH = "/relay";

  private final Consumer<WebSocketByteStream> onConnection;
  private final CountDownLatch started = new CountDownLatch(1);
  private volatile Exception startFailure;
  /**
   * Every connection opened and not yet closed, and whether {@link #shutdown} has begun; guarded
   * by {@code open}. Java-WebSocket's {@code stop} closes the connections it knows with a close
   * frame that its selector thread must still write, and a connection whose handshake completes as
   * {@code stop} begins was left open on the wire: its client never learnt that the relay had gone
   * (RelayClientTest.closedRelayEndsTheClient, about one run in three). So shutdown closes what is
   * left itself, and a connection that opens after it began is closed at once.
   */
  private final Set<WebSocket> open = new HashSet<>();
  private boolean stopping;

  /**
   * @param address      where to listen; port 0 picks a free port (see {@link #getPort()})
   * @param onConnection receives every accepted connection
   */
  public RelayWebSocketServer(InetSocketAddress address, Consumer<WebSocketByteStream> onConnection) {
    super(address, List.of(WebSocketByteStream.relayDraft()));
    // Frames are small and answer each other (handshakes, yamux window updates): without this,
    // Nagle's algorithm can hold one back until the peer's delayed ACK, some 40 ms.
    setTcpNoDelay(true);
    this.onConnection = onConnection;
    setReuseAddr(true);
    setConnectionLostTimeout(60);
  }

  /** Starts the server and waits until it listens (or fails to). */
  public RelayWebSocketServer startAndWait(Duration timeout) throws IOException {
    start();
    try {
      if (!started.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IOException("WebSocket relay server on " + getAddress()
            + " did not start within " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while starting the WebSocket relay server");
    }
    if (startFailure != null) {
      throw new IOException("WebSocket relay server on " + getAddress() + " failed to start: "
          + startFailure, startFailure);
    }
    return this;
  }

  /** Stops listening and closes every connection, waiting at most {@code timeout}. */
  public void shutdown(Duration timeout) {
    synchronized (open) {
      stopping = true;
    }
    try {
      stop((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<WebSocket> left;
    synchronized (open) {
      left = List.copyOf(open);
    }
    // Closes the socket itself: the selector that would write a close frame has stopped.
    left.forEach(conn -> conn.closeConnection(CloseFrame.GOING_AWAY, "relay stopped"));
  }

  @Override
  public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft,
                                   ClientHandshake request)
      throws InvalidDataException {
    String path = request.getResourceDescriptor();
    int query = path.indexOf('?');
    if (!PATH.equals(query < 0 ? path : path.substring(0, query))) {
      throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "no WebSocket endpoint at " + path);
    }
    return super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
  }

  @Override
  public void onOpen(WebSocket conn, ClientHandshake handshake) {
    synchronized (open) {
      if (stopping) {
        conn.closeConnection(CloseFrame.GOING_AWAY, "relay stopped");
        return;
      }
      open.add(conn);
    }
    String url = "ws://" + conn.getRemoteSocketAddress() + " -> " + conn.getLocalSocketAddress()
        + handshake.getResourceDescriptor();
    WebSocketByteStream stream = new WebSocketByteStream(url, WebSocketByteStream.DEFAULT_MAX_INBOUND_BYTES);
    stream.attach(conn);
    conn.setAttachment(stream);
    Thread.ofVirtual().name("relay-ws-connection").start(() -> onConnection.accept(stream));
  }

  @Override
  public void onClose(WebSocket conn, int code, String reason, boolean remote) {
    synchronized (open) {
      open.remove(conn);
    }
    WebSocketByteStream stream = conn.getAttachment();
    if (stream != null) {
      stream.closed(code, reason, remote);
    }
  }

  @Override
  public void onMessage(WebSocket conn, String message) {
    WebSocketByteStream stream = conn.getAttachment();
    if (stream != null) {
      stream.deliverText();
    }
  }

  @Override
  public void onMessage(WebSocket conn, ByteBuffer message) {
    WebSocketByteStream stream = conn.getAttachment();
    if (stream != null) {
      stream.deliver(message);
    }
  }

  @Override
  public void onError(WebSocket conn, Exception ex) {
    if (conn == null) {
      // Server-level failure, e.g. the port is taken.
      startFailure = ex;
      started.countDown();
      return;
    }
    WebSocketByteStream stream = conn.getAttachment();
    if (stream != null) {
      stream.fail(new IOException("WebSocket " + stream.url() + " failed: " + ex, ex));
    }
  }

  @Override
  public void onStart() {
    started.countDown();
  }
}
