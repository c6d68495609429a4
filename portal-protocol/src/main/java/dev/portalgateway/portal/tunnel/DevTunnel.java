package dev.portalgateway.portal.tunnel;

import dev.portalgateway.portal.client.StreamDeadline;
import dev.portalgateway.portal.crypto.Handshake;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.crypto.SecureChannel;
import dev.portalgateway.portal.wire.ConnectionRequest;
import dev.portalgateway.portal.wire.ConnectionResponse;
import dev.portalgateway.portal.wire.Lease;
import dev.portalgateway.portal.wire.LeaseDeleteRequest;
import dev.portalgateway.portal.wire.LeaseDeleteResponse;
import dev.portalgateway.portal.wire.LeaseUpdateRequest;
import dev.portalgateway.portal.wire.LeaseUpdateResponse;
import dev.portalgateway.portal.wire.Packet;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.PacketType;
import dev.portalgateway.portal.wire.ProtoMessage;
import dev.portalgateway.portal.wire.ResponseCode;
import dev.portalgateway.portal.wire.SignedPayload;
import dev.portalgateway.portal.ws.WebSocketByteStream;
import dev.portalgateway.portal.yamux.YamuxSession;
import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A development tunnel: holds a lease on a relay and pipes every E2EE connection made to it to a
 * local TCP service, like the Go {@code portal-tunnel}. It registers with ALPNs
 * {@code ["http/1.1", "h2"]} and renews the lease every 5 s with 30 s of validity.
 *
 * <p>Unlike the Go tunnel it does not reconnect: once the relay session ends, the tunnel is done.
 */
public final class DevTunnel implements AutoCloseable {
  /** The ALPNs the Go tunnel registers. */
  public static final List<String> ALPNS = List.of("http/1.1", "h2");
  private static final Duration LEASE_VALIDITY = Duration.ofSeconds(30);
  private static final Duration RENEW_INTERVAL = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Short, because close() waits for it and the relay drops the lease with the session anyway. */
  private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(2);

  /** First wait before reconnecting to a relay that went away; doubles up to {@link #RECONNECT_MAX}. */
  private static final Duration RECONNECT_FIRST = Duration.ofMillis(250);
  private static final Duration RECONNECT_MAX = Duration.ofSeconds(5);

  private final URI relayUrl;
  private final PortalIdentity leaseIdentity;
  private final PortalIdentity handshakeIdentity;
  private final String name;
  private final InetSocketAddress target;
  private volatile WebSocketByteStream socket;
  private volatile YamuxSession session;
  private final Handshake handshake = new Handshake();
  private final SecureRandom random = new SecureRandom();
  private volatile boolean closing;
  /** Secure connections being served (handshake done, piping to the backend). */
  private final AtomicInteger active = new AtomicInteger();
  private Thread renewer;
  private Thread supervisor;

  private DevTunnel(URI relayUrl, PortalIdentity leaseIdentity, PortalIdentity handshakeIdentity, String name,
      InetSocketAddress target) {
    this.relayUrl = relayUrl;
    this.leaseIdentity = leaseIdentity;
    this.handshakeIdentity = handshakeIdentity;
    this.name = name;
    this.target = target;
  }

  /**
   * Connects to the relay, registers lease {@code name} for {@code identity} and starts serving.
   *
   * @throws IOException when the relay cannot be reached or refuses the lease
   */
  public static DevTunnel start(URI relayUrl, PortalIdentity identity, String name, InetSocketAddress target)
      throws IOException {
    return start(relayUrl, identity, identity, name, target);
  }

  /**
   * A fault-injection tool for tests: registers the lease of {@code leaseIdentity} but answers
   * handshakes with {@code handshakeIdentity}, as a relay or holder impersonating a lease would.
   * A correct client refuses the connection.
   */
  public static DevTunnel startImpostor(URI relayUrl, PortalIdentity leaseIdentity, PortalIdentity handshakeIdentity,
      String name, InetSocketAddress target) throws IOException {
    return start(relayUrl, leaseIdentity, handshakeIdentity, name, target);
  }

  private static DevTunnel start(URI relayUrl, PortalIdentity leaseIdentity, PortalIdentity handshakeIdentity,
      String name, InetSocketAddress target) throws IOException {
    Objects.requireNonNull(leaseIdentity, "identity");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(target, "target");
    DevTunnel tunnel = new DevTunnel(relayUrl, leaseIdentity, handshakeIdentity, name, target);
    try {
      tunnel.connectAndRegister();
    } catch (IOException e) {
      tunnel.close();
      throw e;
    }
    tunnel.renewer = Thread.ofVirtual().name("dev-tunnel-renew-" + name).start(tunnel::renewLoop);
    tunnel.supervisor = Thread.ofVirtual().name("dev-tunnel-reconnect-" + name).start(tunnel::reconnectLoop);
    return tunnel;
  }

  /** Opens a session with the relay, starts accepting on it, and registers the lease. */
  private void connectAndRegister() throws IOException {
    WebSocketByteStream ws = WebSocketByteStream.connect(relayUrl, CONNECT_TIMEOUT);
    YamuxSession s = YamuxSession.client(ws.getInputStream(), ws.getOutputStream(), ws);
    socket = ws;
    session = s;
    // Accept before registering: the relay may route a connection as soon as it accepts.
    Thread.ofVirtual().name("dev-tunnel-accept-" + name).start(() -> acceptLoop(s));
    ResponseCode code = registerLease();
    if (code != ResponseCode.ACCEPTED) {
      s.close();
      ws.close();
      throw new IOException("relay " + relayUrl + " refused lease " + name + ": " + code);
    }
  }

  /**
   * Whenever the session with the relay ends (the relay restarted, the network blinked), connects
   * again and registers the lease again, with exponential backoff and jitter, until closed.
   */
  private void reconnectLoop() {
    long backoff = RECONNECT_FIRST.toMillis();
    while (!closing) {
      YamuxSession s = session;
      try {
        s.closeFuture().get();
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // Ended with an error: reconnect all the same.
      }
      while (!closing) {
        try {
          Thread.sleep(backoff / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
        } catch (InterruptedException e) {
          return;
        }
        try {
          connectAndRegister();
          backoff = RECONNECT_FIRST.toMillis();
          break;
        } catch (IOException | RuntimeException e) {
          backoff = Math.min(RECONNECT_MAX.toMillis(), backoff * 2);
        }
      }
    }
  }

  /** The ID of the lease this tunnel holds. */
  public String leaseId() {
    return leaseIdentity.id();
  }

  /** The lease name. */
  public String name() {
    return name;
  }

  /** @return secure connections being served now */
  public int activeConnections() {
    return active.get();
  }

  /**
   * Stops the way Portal's Go tunnel does on SIGTERM: takes the lease off the relay, refuses new
   * connections, and waits until the peers have closed every connection it serves, then ends the
   * session. A client that keeps idle connections open keeps the tunnel (and its name on the
   * relay) alive until it lets them go.
   *
   * @param patience the longest to wait for the peers
   * @return whether every peer closed its connections within {@code patience}
   */
  public boolean drainAndClose(Duration patience) throws InterruptedException {
    closing = true;
    interruptHelpers();
    if (!session.isClosed()) {
      try {
        deleteLease();
      } catch (IOException ignored) {
        // The relay drops the lease with the session anyway.
      }
    }
    long deadline = System.nanoTime() + patience.toNanos();
    while (active.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    boolean drained = active.get() == 0;
    close();
    return drained;
  }

  /** Deletes the lease (best effort) and ends the session with the relay. */
  @Override
  public void close() {
    closing = true;
    interruptHelpers();
    YamuxSession s = session;
    if (s != null && !s.isClosed()) {
      try {
        deleteLease();
      } catch (IOException ignored) {
        // The relay drops the lease with the session anyway.
      }
    }
    if (s != null) {
      s.close();
    }
    WebSocketByteStream ws = socket;
    if (ws != null) {
      ws.close();
    }
  }

  private void interruptHelpers() {
    if (renewer != null) {
      renewer.interrupt();
    }
    if (supervisor != null) {
      supervisor.interrupt();
    }
  }

  // ---------------------------------------------------------------- lease

  private ResponseCode registerLease() throws IOException {
    long now = Instant.now().getEpochSecond();
    Lease lease = new Lease(leaseIdentity.toIdentity(), now + LEASE_VALIDITY.toSeconds(), name, ALPNS, "");
    Packet answer = exchange(PacketType.LEASE_UPDATE_REQUEST, new LeaseUpdateRequest(lease, nonce(), now),
        REQUEST_TIMEOUT);
    if (answer.type() != PacketType.LEASE_UPDATE_RESPONSE) {
      throw new IOException("relay answered a lease update with " + answer.type());
    }
    return LeaseUpdateResponse.decode(answer.payload()).code();
  }

  private void deleteLease() throws IOException {
    long now = Instant.now().getEpochSecond();
    Packet answer = exchange(PacketType.LEASE_DELETE_REQUEST,
        new LeaseDeleteRequest(leaseIdentity.toIdentity(), nonce(), now), DELETE_TIMEOUT);
    if (answer.type() == PacketType.LEASE_DELETE_RESPONSE) {
      LeaseDeleteResponse.decode(answer.payload());
    }
  }

  /** Sends one signed request on a fresh stream and reads the relay's answer. */
  private Packet exchange(PacketType type, ProtoMessage request, Duration timeout) throws IOException {
    byte[] data = request.encode();
    SignedPayload signed = new SignedPayload(data, leaseIdentity.sign(data));
    YamuxStream stream = session.openStream();
    try (StreamDeadline deadline = new StreamDeadline(stream, timeout)) {
      PacketFraming.writePacket(stream.getOutputStream(), Packet.of(type, signed));
      Packet answer = PacketFraming.readPacket(stream.getInputStream());
      stream.close();
      return answer;
    } catch (IOException e) {
      stream.reset();
      throw e;
    }
  }

  private byte[] nonce() {
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    return nonce;
  }

  private void renewLoop() {
    while (!closing) {
      try {
        Thread.sleep(RENEW_INTERVAL);
        if (!session.isClosed()) {
          registerLease();
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        // A missed renewal is retried next round; the lease has 30 s of slack, and a lost session
        // registers again when the reconnect loop has a new one.
      }
    }
  }

  // ---------------------------------------------------------------- connections

  private void acceptLoop(YamuxSession s) {
    try {
      while (true) {
        YamuxStream stream = s.acceptStream();
        if (closing) {
          stream.reset(); // draining: no new connections
          continue;
        }
        Thread.ofVirtual().name("dev-tunnel-conn-" + stream.id()).start(() -> serve(stream));
      }
    } catch (IOException e) {
      // Session over.
    }
  }

  private void serve(YamuxStream stream) {
    SecureChannel channel;
    try (StreamDeadline deadline = new StreamDeadline(stream, REQUEST_TIMEOUT)) {
      Packet request = PacketFraming.readPacket(stream.getInputStream());
      if (request.type() != PacketType.CONNECTION_REQUEST) {
        stream.reset();
        return;
      }
      ConnectionRequest connection = ConnectionRequest.decode(request.payload());
      // Like the Go SDK: a request for a lease we do not hold is refused, not served.
      boolean ours = connection.leaseId().equals(leaseIdentity.id());
      PacketFraming.writePacket(stream.getOutputStream(), Packet.of(PacketType.CONNECTION_RESPONSE,
          new ConnectionResponse(ours ? ResponseCode.ACCEPTED : ResponseCode.REJECTED)));
      if (!ours) {
        stream.close();
        return;
      }
      channel = handshake.server(stream.getInputStream(), stream.getOutputStream(), handshakeIdentity, ALPNS);
      deadline.close();
      if (deadline.expired()) {
        return;
      }
    } catch (IOException e) {
      stream.reset();
      return;
    }
    Socket backend;
    try {
      backend = new Socket();
      backend.setTcpNoDelay(true); // as a proxy, pass each write on at once
      backend.connect(target, (int) CONNECT_TIMEOUT.toMillis());
    } catch (IOException e) {
      stream.reset();
      return;
    }
    active.incrementAndGet();
    pipe(stream, channel, backend, active::decrementAndGet);
  }

  /** Copies both ways between the secure channel and the backend socket, half-closes included. */
  private static void pipe(YamuxStream stream, SecureChannel channel, Socket backend, Runnable done) {
    AtomicInteger directionsLeft = new AtomicInteger(2);
    Runnable finish = () -> {
      if (directionsLeft.decrementAndGet() == 0) {
        done.run();
        closeQuietly(backend);
        try {
          stream.close();
        } catch (IOException ignored) {
          // Already reset.
        }
      }
    };
    Thread.ofVirtual().name("dev-tunnel-to-backend").start(() -> {
      try {
        copy(channel.input(), backend.getOutputStream());
        backend.shutdownOutput();
      } catch (IOException e) {
        stream.reset();
        closeQuietly(backend);
      }
      finish.run();
    });
    Thread.ofVirtual().name("dev-tunnel-from-backend").start(() -> {
      try {
        copy(backend.getInputStream(), channel.output());
        channel.output().close();
      } catch (IOException e) {
        stream.reset();
        closeQuietly(backend);
      }
      finish.run();
    });
  }

  private static void copy(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[32 * 1024];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      out.write(buffer, 0, n);
      out.flush();
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Nothing to release beyond the file descriptor, which close frees regardless.
    }
  }
}
