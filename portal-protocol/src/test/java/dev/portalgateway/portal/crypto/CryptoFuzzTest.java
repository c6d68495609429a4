package dev.portalgateway.portal.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.portalgateway.portal.wire.Identity;
import dev.portalgateway.portal.wire.InitPayload;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.PieceByPieceInputStream;
import dev.portalgateway.portal.wire.SignedPayload;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz targets for the E2EE layer: {@link SecureChannel}'s encrypted frames and the handshake's
 * parsing and checks of a peer's init message. The relay sits between the two ends, so every byte
 * here is one it could have written. Replayed on
 * {@code src/test/resources/dev/portalgateway/portal/crypto/CryptoFuzzTestInputs/<method>/} by
 * every test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class CryptoFuzzTest {
  private static final byte[] KEY_A = new byte[32];
  private static final byte[] KEY_B = new byte[32];
  private static final long NOW = 1_750_000_000L;
  private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC);
  private static final PortalIdentity SERVER = PortalIdentity.fromSeed(seed(1));
  private static final PortalIdentity CLIENT = PortalIdentity.fromSeed(seed(2));
  private static final String ALPN = "http/1.1";

  static {
    Arrays.fill(KEY_A, (byte) 0xA5);
    Arrays.fill(KEY_B, (byte) 0x5A);
  }

  private static byte[] seed(int n) {
    byte[] s = new byte[32];
    Arrays.fill(s, (byte) n);
    return s;
  }

  private static SecureRandom deterministicRandom() {
    try {
      SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
      random.setSeed(42);
      return random;
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Bytes from the relay as an encrypted stream: without the key no frame authenticates, so a
   * read either ends cleanly on an empty stream or fails with an {@link IOException}, and keeps
   * failing after that; it never yields a plaintext byte.
   */
  @FuzzTest
  void secureChannelFrames(byte[] input) {
    if (input.length == 0) {
      return;
    }
    InputStream raw = new PieceByPieceInputStream(Arrays.copyOfRange(input, 1, input.length), 1 + (input[0] & 63), input[0]);
    SecureChannel channel = new SecureChannel(raw, new ByteArrayOutputStream(), KEY_A, KEY_B, null, ALPN);
    byte[] got;
    try {
      got = channel.input().readAllBytes();
    } catch (IOException expected) {
      try {
        channel.input().read();
      } catch (IOException again) {
        return;
      }
      throw new AssertionError("a read after a failed frame must fail again");
    }
    assertThat(input.length).as("only an empty stream ends cleanly").isEqualTo(1);
    assertThat(got).isEmpty();
  }

  /**
   * Frames we wrote, with one byte of the stream changed (or none): the reader gets exactly what
   * was written when nothing changed; otherwise a prefix of it (the frames before the change)
   * and then an {@link IOException}, never a changed byte.
   */
  @FuzzTest
  void secureChannelTamper(FuzzedDataProvider data) throws IOException {
    int writes = data.consumeInt(0, 6);
    int tamperAt = data.consumeInt(-1, 4096);
    byte flip = data.consumeByte();
    int piece = data.consumeInt(1, 64);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    byte[] nonce = new byte[12];
    SecureChannel writer = new SecureChannel(new ByteArrayInputStream(new byte[0]), wire, KEY_B, KEY_A, null, ALPN,
        () -> {
          nonce[0]++;
          return nonce.clone();
        });
    for (int i = 0; i < writes; i++) {
      byte[] chunk = data.consumeBytes(data.consumeInt(0, 300));
      writer.output().write(chunk);
      plain.writeBytes(chunk);
    }
    byte[] stream = wire.toByteArray();
    boolean tampered = tamperAt >= 0 && tamperAt < stream.length && flip != 0;
    if (tampered) {
      stream[tamperAt] ^= flip;
    }
    SecureChannel reader = new SecureChannel(new PieceByPieceInputStream(stream, piece, piece), new ByteArrayOutputStream(),
        KEY_A, KEY_B, null, ALPN);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[1 + piece * 3];
    try {
      for (int n; (n = reader.input().read(buf)) >= 0; ) {
        got.write(buf, 0, n);
      }
    } catch (IOException e) {
      assertThat(tampered).as("an untouched stream fails: %s", e).isTrue();
      byte[] read = got.toByteArray();
      assertThat(read).isEqualTo(Arrays.copyOf(plain.toByteArray(), read.length));
      return;
    }
    assertThat(tampered).as("a changed stream must not read to its end").isFalse();
    assertThat(got.toByteArray()).isEqualTo(plain.toByteArray());
  }

  /**
   * The lease holder's side given any bytes as a client's init: nobody can sign for the client
   * here, so the handshake fails with a {@link HandshakeException}, and (as the protocol says) the
   * server never answers a bad init: nothing is written.
   */
  @FuzzTest
  void handshakeServerRaw(byte[] input) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new Handshake(CLOCK, deterministicRandom()).server(new ByteArrayInputStream(input), out, SERVER, List.of(ALPN));
      fail("an unsigned init was accepted");
    } catch (HandshakeException expected) {
      assertThat(out.size()).as("answered a bad init").isZero();
    }
  }

  /**
   * A correctly signed init with fuzzed fields, to the server role and, as the server's answer, to
   * the client role: either a channel whose peer passed every documented check (version 1, 12-byte
   * nonce, timestamp within 30 s, the ALPN, an identity that derives from its key, the lease asked
   * for) or a {@link HandshakeException}; nothing else.
   */
  @FuzzTest
  void handshakeSignedInit(FuzzedDataProvider data) throws IOException {
    int version = data.consumeBoolean() ? 0 : data.consumeInt();
    byte[] nonce = data.consumeBytes(data.consumeInt(0, 16));
    long timestamp = data.consumeBoolean() ? NOW + data.consumeLong(-40, 40) : data.consumeLong();
    String alpn = data.consumeBoolean() ? ALPN : data.consumeString(12);
    PortalIdentity signer = data.consumeBoolean() ? CLIENT : SERVER;
    Identity claimed = switch (data.consumeInt(0, 3)) {
      case 0 -> signer.toIdentity();
      case 1 -> new Identity(signer.id(), data.consumeBytes(33));
      case 2 -> new Identity(data.consumeString(30), signer.toIdentity().publicKey());
      default -> null;
    };
    byte[] sessionKey = data.consumeBoolean() ? X25519.generate(deterministicRandom()).publicKey()
        : data.consumeBytes(data.consumeInt(0, 40));
    boolean clientRole = data.consumeBoolean();
    byte[] extra = data.consumeRemainingAsBytes();

    byte[] init = new InitPayload(version, nonce, timestamp, claimed, alpn, sessionKey).encode();
    byte[] body = new byte[init.length + extra.length];
    System.arraycopy(init, 0, body, 0, init.length);
    System.arraycopy(extra, 0, body, init.length, extra.length); // unknown fields, or garbage
    ByteArrayOutputStream framed = new ByteArrayOutputStream();
    PacketFraming.write(framed, new SignedPayload(body, signer.sign(body)).encode());

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Handshake handshake = new Handshake(CLOCK, deterministicRandom());
    SecureChannel channel;
    try {
      channel = clientRole
          ? handshake.client(new ByteArrayInputStream(framed.toByteArray()), out, CLIENT, SERVER.id(), ALPN)
          : handshake.server(new ByteArrayInputStream(framed.toByteArray()), out, SERVER, List.of(ALPN));
    } catch (HandshakeException expected) {
      return;
    }
    InitPayload accepted = InitPayload.decode(body);
    assertThat(accepted.version()).isEqualTo(InitPayload.VERSION_1);
    assertThat(accepted.nonce()).hasSize(12);
    assertThat(Math.abs(accepted.timestamp() - NOW)).isLessThanOrEqualTo(Handshake.MAX_CLOCK_SKEW_SECONDS);
    assertThat(accepted.alpn()).isEqualTo(ALPN);
    assertThat(PortalIds.isValid(accepted.identity())).isTrue();
    assertThat(accepted.sessionPublicKey()).hasSize(32);
    assertThat(channel.peerIdentity()).isEqualTo(accepted.identity());
    assertThat(accepted.identity().id()).isEqualTo(signer.id());
    if (clientRole) {
      assertThat(signer.id()).as("the client accepted someone other than the lease").isEqualTo(SERVER.id());
    }
  }
}
