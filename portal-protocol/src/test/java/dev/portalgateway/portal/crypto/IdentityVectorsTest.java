package dev.portalgateway.portal.crypto;

import static dev.portalgateway.portal.wire.TestVectors.hex;
import static dev.portalgateway.portal.wire.TestVectors.string;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.portal.wire.Identity;
import java.security.interfaces.EdECPublicKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Ed25519 identities and IDs against the Go implementation's values. */
class IdentityVectorsTest {

  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void seedGivesTheGoPublicKeyAndId(int index) {
    PortalIdentity identity = PortalIdentity.fromSeed(hex("identity." + index + ".ed25519_seed"));

    assertThat(identity.rawPublicKey()).isEqualTo(hex("identity." + index + ".public_key"));
    assertThat(identity.id()).isEqualTo(string("identity." + index + ".id")).hasSize(26);
    assertThat(PortalIds.deriveId(hex("identity." + index + ".public_key"))).isEqualTo(identity.id());
  }

  @Test
  void rawPublicKeyConvertsToAndFromTheJdkKey() throws Exception {
    byte[] raw = hex("identity.1.public_key");

    EdECPublicKey key = (EdECPublicKey) PortalIdentity.publicKeyFromRaw(raw);

    assertThat(PortalIdentity.rawPublicKey(key)).isEqualTo(raw);
    assertThat(PortalIdentity.fromSeed(hex("identity.1.ed25519_seed")).publicKey()).isEqualTo(key);
  }

  @Test
  void signaturesVerifyOnlyForTheSignedBytesAndKey() {
    PortalIdentity alice = PortalIdentity.fromSeed(hex("identity.0.ed25519_seed"));
    PortalIdentity bob = PortalIdentity.generate();
    byte[] data = {1, 2, 3};

    byte[] signature = alice.sign(data);

    assertThat(signature).hasSize(64);
    assertThat(PortalIdentity.verify(alice.rawPublicKey(), data, signature)).isTrue();
    assertThat(PortalIdentity.verify(alice.rawPublicKey(), new byte[] {1, 2, 4}, signature)).isFalse();
    assertThat(PortalIdentity.verify(bob.rawPublicKey(), data, signature)).isFalse();
    assertThat(PortalIdentity.verify(new byte[31], data, signature)).isFalse();
    assertThat(PortalIdentity.verify(alice.rawPublicKey(), data, new byte[10])).isFalse();
  }

  @Test
  void identityValidityNeedsAThirtyTwoByteKeyAndItsOwnId() {
    PortalIdentity alice = PortalIdentity.fromSeed(hex("identity.0.ed25519_seed"));

    assertThat(PortalIds.isValid(alice.toIdentity())).isTrue();
    assertThat(PortalIds.isValid(new Identity(string("identity.1.id"), alice.rawPublicKey()))).isFalse();
    assertThat(PortalIds.isValid(new Identity(alice.id(), new byte[31]))).isFalse();
    assertThat(PortalIds.isValid(null)).isFalse();
  }

  @Test
  void generatedIdentitiesDiffer() {
    assertThat(PortalIdentity.generate().id()).isNotEqualTo(PortalIdentity.generate().id());
  }

  @Test
  void base32MatchesRfc4648TestVectors() {
    assertThat(PortalIds.base32("f".getBytes())).isEqualTo("MY");
    assertThat(PortalIds.base32("foobar".getBytes())).isEqualTo("MZXW6YTBOI");
  }
}
