package dev.portalgateway.portal.client;

import dev.portalgateway.portal.crypto.Handshake;
import dev.portalgateway.portal.crypto.HandshakeException;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.crypto.SecureChannel;
import dev.portalgateway.portal.wire.ConnectionRequest;
import dev.portalgateway.portal.wire.ConnectionResponse;
import dev.portalgateway.portal.wire.Packet;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.PacketType;
import dev.portalgateway.portal.wire.RelayInfo;
import dev.portalgateway.portal.wire.RelayInfoRequest;
import dev.portalgateway.portal.wire.RelayInfoResponse;
import dev.portalgateway.portal.wire.ResponseCode;
import dev.portalgateway.portal.wire.WireFormatException;
import dev.portalgateway.portal.ws.WebSocketByteStream;
import dev.portalgateway.portal.yamux.YamuxSession;
import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One connection to a Portal relay: a WebSocket carrying a yamux client session. Each
 * {@link #relayInfo} and {@link #open} call uses a stream of its own, so many may run at once.
 */
public final class RelayClient implements AutoCloseable {
  private final String url;
  private final WebSocketByteStream socket;
  private final YamuxSession session;
  private final Handshake handshake = new Handshake();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  private RelayClient(String url, WebSocketByteStream socket, YamuxSession session) {
    this.url = url;
    this.socket = socket;
    this.session = session;
    // Callers only want to know that the relay is gone, not why; the cause is in the session.
    session.closeFuture().whenComplete((ignored, failure) -> closed.complete(null));
  }

  /**
   * Connects to the relay at {@code relayUrl} ({@code ws://host:port/relay} or {@code wss://}).
   *
   * @throws IOException naming the URL when the WebSocket cannot be established in time
   */
  public static RelayClient connect(URI relayUrl, Duration connectTimeout) throws IOException {
    Objects.requireNonNull(relayUrl, "relayUrl");
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    WebSocketByteStream socket = WebSocketByteStream.connect(relayUrl, connectTimeout);
    YamuxSession session = YamuxSession.client(socket.getInputStream(), socket.getOutputStream(), socket);
    return new RelayClient(relayUrl.toString(), socket, session);
  }

  /** Asks the relay for its identity, addresses and live leases. */
  public RelayInfo relayInfo(Duration timeout) throws IOException {
    YamuxStream stream = openStream();
    try (StreamDeadline deadline = new StreamDeadline(stream, timeout)) {
      try {
        PacketFraming.writePacket(stream.getOutputStream(),
            Packet.of(PacketType.RELAY_INFO_REQUEST, new RelayInfoRequest()));
        Packet answer = PacketFraming.readPacket(stream.getInputStream());
        if (answer.type() != PacketType.RELAY_INFO_RESPONSE) {
          throw new WireFormatException("relay " + url + " answered a relay info request with " + answer.type());
        }
        RelayInfo info = RelayInfoResponse.decode(answer.payload()).relayInfo();
        stream.close();
        return info != null ? info : new RelayInfo(null, List.of(), List.of());
      } catch (IOException e) {
        stream.reset();
        throw timedOut(deadline, e, "relay info from " + url, timeout);
      }
    }
  }

  /**
   * Connects to lease {@code leaseId} through the relay and runs the E2EE handshake as
   * {@code identity}, asking for {@code alpn}. Closing the returned channel closes its stream.
   *
   * @param timeout bounds the connection request and the handshake together
   * @throws ConnectionRefusedException when the relay or holder does not accept the request
   * @throws HandshakeException         when the holder fails the handshake, in particular when it
   *                                    is not the key behind {@code leaseId}
   */
  public SecureChannel open(String leaseId, PortalIdentity identity, String alpn, Duration timeout)
      throws IOException {
    return connect(leaseId, identity, alpn, timeout).channel();
  }

  /**
   * An end-to-end encrypted connection to a lease and what the stream under it knows of the peer.
   *
   * @param channel the secure channel; closing it closes the stream
   * @param stream the relay stream it runs on
   */
  public record LeaseConnection(SecureChannel channel, YamuxStream stream) {
    /**
     * @return whether the connection can no longer carry a new exchange as far as the peer has
     *     said, without reading: it closed or reset its side, the relay session ended, or it sent
     *     bytes nobody asked for (see {@link YamuxStream#peerClosedOrSentData()})
     */
    public boolean peerGone() {
      return stream.peerClosedOrSentData();
    }

    /** @return a mark of what has been sent so far, for {@link #peerClosedBefore(long)} */
    public long sentMark() {
      return stream.bytesSent();
    }

    /**
     * @return whether the peer closed its side before anything after {@code mark} was sent, so
     *     nothing sent after it reached the service (see {@link YamuxStream#peerClosedBefore})
     */
    public boolean peerClosedBefore(long mark) {
      return stream.peerClosedBefore(mark);
    }
  }

  /**
   * As {@link #open}, keeping the stream under the channel, so a pool can tell when the peer has
   * closed an idle connection without reading from it.
   */
  public LeaseConnection connect(String leaseId, PortalIdentity identity, String alpn, Duration timeout)
      throws IOException {
    Objects.requireNonNull(leaseId, "leaseId");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(alpn, "alpn");
    YamuxStream stream = openStream();
    try (StreamDeadline deadline = new StreamDeadline(stream, timeout)) {
      try {
        OutputStream out = stream.getOutputStream();
        InputStream in = stream.getInputStream();
        PacketFraming.writePacket(out, Packet.of(PacketType.CONNECTION_REQUEST,
            new ConnectionRequest(leaseId, identity.toIdentity())));
        Packet answer = PacketFraming.readPacket(in);
        if (answer.type() != PacketType.CONNECTION_RESPONSE) {
          throw new WireFormatException("relay " + url + " answered a connection request with " + answer.type());
        }
        ResponseCode code = ConnectionResponse.decode(answer.payload()).code();
        if (code != ResponseCode.ACCEPTED) {
          throw new ConnectionRefusedException(code,
              "relay " + url + " refused the connection to lease " + leaseId + ": " + code);
        }
        SecureChannel channel = handshake.client(new StreamInput(stream), new StreamOutput(stream),
            identity, leaseId, alpn);
        deadline.close();
        if (deadline.expired()) {
          // The timer won the race against the last handshake byte; the stream is already reset.
          throw new IOException("stream reset by timeout");
        }
        return new LeaseConnection(channel, stream);
      } catch (IOException e) {
        stream.reset();
        if (e instanceof ConnectionRefusedException || e instanceof HandshakeException && !deadline.expired()) {
          throw e;
        }
        throw timedOut(deadline, e, "connection to lease " + leaseId + " via " + url, timeout);
      }
    }
  }

  /** Completes (normally) once the session with the relay has ended, for whatever reason. */
  public CompletableFuture<Void> closed() {
    return closed;
  }

  /** Whether the session with the relay is still up. */
  public boolean isOpen() {
    return !session.isClosed() && !closed.isDone();
  }

  /** The relay URL this client connected to. */
  public String url() {
    return url;
  }

  /** Ends the session and the WebSocket; open channels fail. */
  @Override
  public void close() {
    session.close();
    socket.close();
  }

  @Override
  public String toString() {
    return "RelayClient[" + url + (isOpen() ? "" : ", closed") + "]";
  }

  private YamuxStream openStream() throws IOException {
    try {
      return session.openStream();
    } catch (IOException e) {
      throw new IOException("relay " + url + " is not connected: " + e.getMessage(), e);
    }
  }

  private static IOException timedOut(StreamDeadline deadline, IOException e, String what, Duration timeout) {
    if (deadline.expired()) {
      return new IOException(what + " timed out after " + timeout, e);
    }
    return e;
  }

  /** The stream's input; closing it closes the whole stream, so closing a channel frees it. */
  private static final class StreamInput extends FilterInputStream {
    private final YamuxStream stream;

    StreamInput(YamuxStream stream) {
      super(stream.getInputStream());
      this.stream = stream;
    }

    @Override
    public void close() throws IOException {
      stream.close();
    }
  }

  /** The stream's output; closing it half-closes the stream (FIN) so the holder sees EOF. */
  private static final class StreamOutput extends FilterOutputStream {
    private final YamuxStream stream;

    StreamOutput(YamuxStream stream) {
      super(stream.getOutputStream());
      this.stream = stream;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      // FilterOutputStream would write byte by byte.
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      stream.closeOutput();
    }
  }
}
