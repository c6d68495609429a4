package dev.portalgateway.portal.crypto;

import dev.portalgateway.portal.wire.Identity;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * A Portal peer's long-term Ed25519 key pair, with its raw public key and derived ID. Instances
 * are immutable and safe to share between threads.
 */
public final class PortalIdentity {
  /** Length of a raw Ed25519 public key and of a seed. */
  public static final int PUBLIC_KEY_LENGTH = 32;
  /** Length of an Ed25519 signature. */
  public static final int SIGNATURE_LENGTH = 64;

  // DER prefix of an X.509 SubjectPublicKeyInfo for Ed25519; the raw key follows it.
  private static final byte[] X509_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  private final PrivateKey privateKey;
  private final PublicKey publicKey;
  private final byte[] rawPublicKey;
  private final String id;

  private PortalIdentity(KeyPair keyPair) {
    this.privateKey = keyPair.getPrivate();
    this.publicKey = keyPair.getPublic();
    this.rawPublicKey = rawPublicKey(publicKey);
    this.id = PortalIds.deriveId(rawPublicKey);
  }

  /** The identity whose private key is the 32-byte Ed25519 seed (as Go's NewKeyFromSeed). */
  public static PortalIdentity fromSeed(byte[] seed) {
    if (seed.length != PUBLIC_KEY_LENGTH) {
      throw new IllegalArgumentException("an Ed25519 seed is 32 bytes, got " + seed.length);
    }
    // The JDK derives the public key only inside its key pair generator, which takes the seed
    // from its random source; feeding it the seed yields the pair for that seed.
    return new PortalIdentity(generateKeyPair("Ed25519", NamedParameterSpec.ED25519, new FixedBytesRandom(seed)));
  }

  /** A fresh random identity. */
  public static PortalIdentity generate(SecureRandom random) {
    return new PortalIdentity(generateKeyPair("Ed25519", NamedParameterSpec.ED25519, random));
  }

  /** A fresh random identity from the default secure random source. */
  public static PortalIdentity generate() {
    return generate(new SecureRandom());
  }

  /** The 26-character ID derived from the public key. */
  public String id() {
    return id;
  }

  /** The raw 32-byte public key. */
  public byte[] rawPublicKey() {
    return rawPublicKey.clone();
  }

  /** The JDK public key. */
  public PublicKey publicKey() {
    return publicKey;
  }

  /** The identity as sent on the wire. */
  public Identity toIdentity() {
    return new Identity(id, rawPublicKey);
  }

  /** The 64-byte Ed25519 signature over {@code data}. */
  public byte[] sign(byte[] data) {
    try {
      Signature signature = Signature.getInstance("Ed25519");
      signature.initSign(privateKey);
      signature.update(data);
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  /**
   * Whether {@code signature} is a valid Ed25519 signature of {@code data} by the raw public key.
   * Malformed keys and signatures are simply invalid.
   */
  public static boolean verify(byte[] rawPublicKey, byte[] data, byte[] signature) {
    if (rawPublicKey.length != PUBLIC_KEY_LENGTH || signature.length != SIGNATURE_LENGTH) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(publicKeyFromRaw(rawPublicKey));
      verifier.update(data);
      return verifier.verify(signature);
    } catch (InvalidKeyException | InvalidKeySpecException | SignatureException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is part of every JDK", e);
    }
  }

  /** The JDK public key for a raw 32-byte Ed25519 key. */
  public static PublicKey publicKeyFromRaw(byte[] raw) throws InvalidKeySpecException {
    if (raw.length != PUBLIC_KEY_LENGTH) {
      throw new InvalidKeySpecException("an Ed25519 public key is 32 bytes, got " + raw.length);
    }
    byte[] encoded = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + PUBLIC_KEY_LENGTH);
    System.arraycopy(raw, 0, encoded, X509_PREFIX.length, PUBLIC_KEY_LENGTH);
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Ed25519 is part of every JDK", e);
    }
  }

  /** The raw 32-byte form of a JDK Ed25519 public key. */
  public static byte[] rawPublicKey(PublicKey key) {
    byte[] encoded = key.getEncoded();
    if (encoded.length != X509_PREFIX.length + PUBLIC_KEY_LENGTH
        || !Arrays.equals(encoded, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
      throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
    }
    return Arrays.copyOfRange(encoded, X509_PREFIX.length, encoded.length);
  }

  static KeyPair generateKeyPair(String algorithm, NamedParameterSpec params, SecureRandom random) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      generator.initialize(params, random);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(algorithm + " is part of every JDK", e);
    }
  }

  @Override
  public String toString() {
    return "PortalIdentity[" + id + "]";
  }
}
