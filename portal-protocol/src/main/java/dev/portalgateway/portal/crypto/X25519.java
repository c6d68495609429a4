package dev.portalgateway.portal.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.HexFormat;
import javax.crypto.KeyAgreement;

/**
 * X25519 key agreement with raw 32-byte keys as they appear on the wire: the little-endian
 * u-coordinate for public keys and the unclamped scalar for private keys (clamping happens inside
 * the function, as in RFC 7748 and Go's crypto/ecdh).
 */
public final class X25519 {
  /** Length of raw keys and of the shared secret. */
  public static final int KEY_LENGTH = 32;

  private X25519() {
  }

  /**
   * An ephemeral key pair in raw form.
   *
   * @param privateKey the raw 32-byte scalar
   * @param publicKey  the raw 32-byte little-endian u-coordinate
   */
  public record RawKeyPair(byte[] privateKey, byte[] publicKey) {
    public RawKeyPair {
      privateKey = privateKey.clone();
      publicKey = publicKey.clone();
    }

    @Override
    public byte[] privateKey() {
      return privateKey.clone();
    }

    @Override
    public byte[] publicKey() {
      return publicKey.clone();
    }

    @Override
    public String toString() {
      return "RawKeyPair[publicKey=" + HexFormat.of().formatHex(publicKey) + "]";
    }
  }

  /** A fresh random key pair. */
  public static RawKeyPair generate(SecureRandom random) {
    byte[] privateKey = new byte[KEY_LENGTH];
    random.nextBytes(privateKey);
    return fromPrivateKey(privateKey);
  }

  /** The key pair for a known raw private key. */
  public static RawKeyPair fromPrivateKey(byte[] privateKey) {
    if (privateKey.length != KEY_LENGTH) {
      throw new IllegalArgumentException("an X25519 private key is 32 bytes, got " + privateKey.length);
    }
    KeyPair pair = PortalIdentity.generateKeyPair("X25519", NamedParameterSpec.X25519,
        new FixedBytesRandom(privateKey));
    return new RawKeyPair(privateKey, rawPublicKey((XECPublicKey) pair.getPublic()));
  }

  /**
   * The shared secret {@code X25519(privateKey, peerPublicKey)}.
   *
   * @throws InvalidKeyException if the peer key has the wrong length or small order (all-zero
   *                             secret), which Go's crypto/ecdh rejects as well
   */
  public static byte[] sharedSecret(byte[] privateKey, byte[] peerPublicKey) throws InvalidKeyException {
    if (privateKey.length != KEY_LENGTH || peerPublicKey.length != KEY_LENGTH) {
      throw new InvalidKeyException("X25519 keys are 32 bytes");
    }
    try {
      KeyAgreement agreement = KeyAgreement.getInstance("X25519");
      agreement.init(privateKeyFromRaw(privateKey));
      agreement.doPhase(publicKeyFromRaw(peerPublicKey), true);
      byte[] secret = agreement.generateSecret();
      if (isAllZero(secret)) {
        throw new InvalidKeyException("X25519 peer key has small order");
      }
      return secret;
    } catch (InvalidKeyException e) {
      throw e;
    } catch (IllegalStateException | InvalidKeySpecException e) {
      throw new InvalidKeyException("X25519 key agreement failed: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is part of every JDK", e);
    }
  }

  /** The JDK private key for a raw scalar. */
  public static PrivateKey privateKeyFromRaw(byte[] raw) throws InvalidKeySpecException {
    try {
      return KeyFactory.getInstance("X25519").generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, raw));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("X25519 is part of every JDK", e);
    }
  }

  /** The JDK public key for a raw little-endian u-coordinate. */
  public static PublicKey publicKeyFromRaw(byte[] raw) throws InvalidKeySpecException {
    byte[] bigEndian = new byte[KEY_LENGTH];
    for (int i = 0; i < KEY_LENGTH; i++) {
      bigEndian[i] = raw[KEY_LENGTH - 1 - i];
    }
    // RFC 7748 section 5: the top bit of the last byte is ignored on input.
    bigEndian[0] &= 0x7F;
    try {
      return KeyFactory.getInstance("X25519")
          .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, bigEndian)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("X25519 is part of every JDK", e);
    }
  }

  /** The raw little-endian form of a JDK X25519 public key. */
  public static byte[] rawPublicKey(XECPublicKey key) {
    byte[] bigEndian = key.getU().toByteArray();
    byte[] raw = new byte[KEY_LENGTH];
    // toByteArray may carry a leading sign byte or be shorter than 32 bytes.
    for (int i = 0; i < KEY_LENGTH && i < bigEndian.length; i++) {
      raw[i] = bigEndian[bigEndian.length - 1 - i];
    }
    return raw;
  }

  private static boolean isAllZero(byte[] bytes) {
    int accumulated = 0;
    for (byte b : bytes) {
      accumulated |= b;
    }
    return accumulated == 0;
  }
}
