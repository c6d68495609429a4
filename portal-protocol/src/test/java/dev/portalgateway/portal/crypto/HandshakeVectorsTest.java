package dev.portalgateway.portal.crypto;

import static dev.portalgateway.portal.wire.TestVectors.hex;
import static dev.portalgateway.portal.wire.TestVectors.number;
import static dev.portalgateway.portal.wire.TestVectors.string;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.portal.wire.InitPayload;
import dev.portalgateway.portal.wire.PacketFraming;
import dev.portalgateway.portal.wire.SignedPayload;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The client init message and the session keys against the Go implementation's values. */
class HandshakeVectorsTest {

  private static SignedPayload vectorClientInit() {
    PortalIdentity client = PortalIdentity.fromSeed(hex("identity.0.ed25519_seed"));
    X25519.RawKeyPair ephemeral = X25519.fromPrivateKey(hex("client_init.x25519_private"));
    return Handshake.signedInit(client, ephemeral, hex("client_init.nonce"), number("client_init.timestamp"),
        string("client_init.alpn"));
  }

  @Test
  void x25519PublicKeysMatch() {
    assertThat(X25519.fromPrivateKey(hex("client_init.x25519_private")).publicKey())
        .isEqualTo(hex("client_init.x25519_public"));
    assertThat(X25519.fromPrivateKey(hex("session_keys.server_x25519_private")).publicKey())
        .isEqualTo(hex("session_keys.server_x25519_public"));
  }

  @Test
  void clientInitPayloadAndSignatureMatch() {
    SignedPayload signed = vectorClientInit();

    assertThat(signed.data()).isEqualTo(hex("client_init.payload_protobuf"));
    assertThat(signed.signature()).isEqualTo(hex("client_init.ed25519_signature"));
    assertThat(signed.encode()).isEqualTo(hex("client_init.signed_payload_protobuf"));
  }

  @Test
  void clientInitIsFramedLikeGo() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PacketFraming.write(out, vectorClientInit().encode());

    assertThat(out.toByteArray()).isEqualTo(hex("client_init.framed"));
  }

  @Test
  void goClientInitDecodesAndValidates() throws Exception {
    SignedPayload signed = SignedPayload.decode(
        PacketFraming.read(new ByteArrayInputStream(hex("client_init.framed"))));
    Clock atVectorTime = Clock.fixed(Instant.ofEpochSecond(number("client_init.timestamp") + 30), ZoneOffset.UTC);

    InitPayload init = new Handshake(atVectorTime, new SecureRandom()).validate(signed, List.of("http/1.1", "h2"));

    assertThat(init.identity().id()).isEqualTo(string("identity.0.id"));
    assertThat(init.sessionPublicKey()).isEqualTo(hex("client_init.x25519_public"));
    assertThat(init.nonce()).isEqualTo(hex("client_init.nonce"));
  }

  @Test
  void sharedSecretAndSessionKeysMatch() throws Exception {
    byte[] clientPrivate = hex("session_keys.client_x25519_private");
    byte[] serverPrivate = hex("session_keys.server_x25519_private");
    byte[] clientPublic = X25519.fromPrivateKey(clientPrivate).publicKey();

    byte[] clientSide = X25519.sharedSecret(clientPrivate, hex("session_keys.server_x25519_public"));
    byte[] serverSide = X25519.sharedSecret(serverPrivate, clientPublic);
    SessionKeys keys = SessionKeys.derive(clientSide, hex("session_keys.client_nonce"),
        hex("session_keys.server_nonce"));

    assertThat(clientSide).isEqualTo(hex("session_keys.shared_secret")).isEqualTo(serverSide);
    assertThat(keys.clientToServer()).isEqualTo(hex("session_keys.client_to_server_key"));
    assertThat(keys.serverToClient()).isEqualTo(hex("session_keys.server_to_client_key"));
  }

  @Test
  void hkdfMatchesRfc5869TestCase1() {
    HexFormat h = HexFormat.of();
    byte[] okm = Hkdf.derive(h.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        h.parseHex("000102030405060708090a0b0c"), h.parseHex("f0f1f2f3f4f5f6f7f8f9"), 42);

    assertThat(h.formatHex(okm)).isEqualTo(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  }
}
