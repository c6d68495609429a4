package dev.portalgateway.portal.crypto;

import dev.portalgateway.portal.crypto.HandshakeException.Reason;
import dev.portalgateway.portal.wire.InitPayload;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.SignedPayload;
import dev.portalgateway.portal.wire.WireFormatException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The Portal v1 E2EE handshake, for either role, over a stream that the relay has spliced to the
 * peer. Each side sends one length-prefixed {@code SignedPayload} holding its init payload (an
 * ephemeral X25519 key, a nonce, a timestamp, its identity and the ALPN), checks the peer's, and
 * derives one ChaCha20-Poly1305 key per direction.
 *
 * <p>On any failure both streams are closed and a {@link HandshakeException} says why; the server
 * role never answers a bad client init, it just closes. Instances hold no per-connection state
 * and may be shared.
 */
public final class Handshake {
  /** The largest accepted difference between a peer's timestamp and our clock. */
  public static final long MAX_CLOCK_SKEW_SECONDS = 30;
  /** Length of the init payload nonce. */
  public static final int NONCE_LENGTH = 12;

  private final Clock clock;
  private final SecureRandom random;

  /** A handshake using the system clock and a default secure random source. */
  public Handshake() {
    this(Clock.systemUTC(), new SecureRandom());
  }

  /**
   * A handshake with an explicit clock (for timestamps and their checks) and random source (for
   * ephemeral keys and nonces).
   */
  public Handshake(Clock clock, SecureRandom random) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * Runs the client role: proves {@code identity} to the lease holder and checks that the holder
   * really is lease {@code leaseId}. Without that last check the relay could answer with its own
   * key and read everything.
   *
   * @return the secure channel, reading with the server-to-client key and writing with the
   *         client-to-server key
   */
  public SecureChannel client(InputStream in, OutputStream out, PortalIdentity identity, String leaseId, String alpn)
      throws HandshakeException {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(leaseId, "leaseId");
    Objects.requireNonNull(alpn, "alpn");
    try {
      X25519.RawKeyPair ephemeral = X25519.generate(random);
      byte[] nonce = randomNonce();
      send(out, signedInit(identity, ephemeral, nonce, now(), alpn));

      InitPayload server = validate(receive(in), List.of(alpn));
      if (!server.identity().id().equals(leaseId)) {
        throw new HandshakeException(Reason.IDENTITY_MISMATCH,
            "expected lease " + leaseId + " but the server is " + server.identity().id());
      }
      SessionKeys keys = SessionKeys.derive(
          sharedSecret(ephemeral, server.sessionPublicKey()), nonce, server.nonce());
      return new SecureChannel(in, out, keys.serverToClient(), keys.clientToServer(), server.identity(), alpn);
    } catch (HandshakeException e) {
      closeQuietly(in, out);
      throw e;
    }
  }

  /**
   * Runs the server (lease holder) role: accepts a client whose ALPN is among {@code alpns} and
   * answers with {@code identity}, which must be the lease's own.
   *
   * @return the secure channel, reading with the client-to-server key and writing with the
   *         server-to-client key
   */
  public SecureChannel server(InputStream in, OutputStream out, PortalIdentity identity, Collection<String> alpns)
      throws HandshakeException {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(alpns, "alpns");
    try {
      InitPayload client = validate(receive(in), alpns);

      X25519.RawKeyPair ephemeral = X25519.generate(random);
      byte[] nonce = randomNonce();
      // Keys are derived before answering so that an unusable client key ends the handshake
      // without a reply, like every other client-side fault.
      SessionKeys keys = SessionKeys.derive(
          sharedSecret(ephemeral, client.sessionPublicKey()), client.nonce(), nonce);
      send(out, signedInit(identity, ephemeral, nonce, now(), client.alpn()));
      return new SecureChannel(in, out, keys.clientToServer(), keys.serverToClient(), client.identity(),
          client.alpn());
    } catch (HandshakeException e) {
      closeQuietly(in, out);
      throw e;
    }
  }

  /** The signed init message for the given ephemeral key, nonce and time (Unix seconds). */
  static SignedPayload signedInit(PortalIdentity identity, X25519.RawKeyPair ephemeral, byte[] nonce,
      long timestamp, String alpn) {
    byte[] data = new InitPayload(InitPayload.VERSION_1, nonce, timestamp, identity.toIdentity(), alpn,
        ephemeral.publicKey()).encode();
    return new SignedPayload(data, identity.sign(data));
  }

  /**
   * Checks a peer's init in the order the Go implementation does: version, timestamp, ALPN,
   * identity, then the signature over the data bytes exactly as received.
   */
  InitPayload validate(SignedPayload signed, Collection<String> acceptedAlpns) throws HandshakeException {
    InitPayload init;
    try {
      init = InitPayload.decode(signed.data());
    } catch (WireFormatException e) {
      throw new HandshakeException(Reason.MALFORMED_MESSAGE, "init payload does not decode", e);
    }
    if (init.version() != InitPayload.VERSION_1) {
      throw new HandshakeException(Reason.UNSUPPORTED_VERSION, "version " + init.version());
    }
    long skew = now() - init.timestamp();
    if (skew < -MAX_CLOCK_SKEW_SECONDS || skew > MAX_CLOCK_SKEW_SECONDS) {
      throw new HandshakeException(Reason.STALE_TIMESTAMP, "peer clock differs by " + skew + " s");
    }
    if (!acceptedAlpns.contains(init.alpn())) {
      throw new HandshakeException(Reason.ALPN_MISMATCH, "ALPN '" + init.alpn() + "' not in " + acceptedAlpns);
    }
    if (!PortalIds.isValid(init.identity())) {
      throw new HandshakeException(Reason.INVALID_IDENTITY, "identity " + init.identity());
    }
    if (!PortalIdentity.verify(init.identity().publicKey(), signed.data(), signed.signature())) {
      throw new HandshakeException(Reason.INVALID_SIGNATURE, "signature by " + init.identity().id());
    }
    // Go does not check the nonce length; it only salts HKDF. Every Go peer sends 12 bytes,
    // and insisting on it keeps a degenerate (empty) salt out of our sessions.
    if (init.nonce().length != NONCE_LENGTH) {
      throw new HandshakeException(Reason.MALFORMED_MESSAGE, "nonce of " + init.nonce().length + " bytes");
    }
    return init;
  }

  private static byte[] sharedSecret(X25519.RawKeyPair own, byte[] peerPublicKey) throws HandshakeException {
    try {
      return X25519.sharedSecret(own.privateKey(), peerPublicKey);
    } catch (InvalidKeyException e) {
      throw new HandshakeException(Reason.INVALID_SESSION_KEY, e.getMessage(), e);
    }
  }

  private static void send(OutputStream out, SignedPayload message) throws HandshakeException {
    try {
      PacketFraming.write(out, message.encode());
    } catch (IOException e) {
      throw new HandshakeException(Reason.CONNECTION_LOST, "sending init: " + e.getMessage(), e);
    }
  }

  private static SignedPayload receive(InputStream in) throws HandshakeException {
    byte[] frame;
    try {
      frame = PacketFraming.read(in);
    } catch (WireFormatException e) {
      throw new HandshakeException(Reason.MALFORMED_MESSAGE, e.getMessage(), e);
    } catch (IOException e) {
      throw new HandshakeException(Reason.CONNECTION_LOST, "reading init: " + e.getMessage(), e);
    }
    try {
      return SignedPayload.decode(frame);
    } catch (WireFormatException e) {
      throw new HandshakeException(Reason.MALFORMED_MESSAGE, "signed payload does not decode", e);
    }
  }

  private byte[] randomNonce() {
    byte[] nonce = new byte[NONCE_LENGTH];
    random.nextBytes(nonce);
    return nonce;
  }

  private long now() {
    return clock.instant().getEpochSecond();
  }

  private static void closeQuietly(Closeable... streams) {
    for (Closeable stream : streams) {
      try {
        stream.close();
      } catch (IOException ignored) {
        // The handshake failure is what the caller needs to hear about.
      }
    }
  }
}
