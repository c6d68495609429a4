package dev.portalgateway.portal.crypto;

import java.security.SecureRandom;

/**
 * A "random" source that returns one given byte string. The JDK's Ed25519 and X25519 key pair
 * generators draw the private key from their random source and offer no other way to derive a
 * public key from a known private key, so this is how a known private key becomes a key pair.
 */
final class FixedBytesRandom extends SecureRandom {
  private static final long serialVersionUID = 1L;
  private final byte[] bytes;
  private boolean used;

  FixedBytesRandom(byte[] bytes) {
    this.bytes = bytes.clone();
  }

  @Override
  public synchronized void nextBytes(byte[] out) {
    // Exactly one draw of exactly the key's length is expected; anything else means the JDK
    // changed how it generates keys and the result would silently be a different key.
    if (used || out.length != bytes.length) {
      throw new IllegalStateException("unexpected draw of " + out.length + " bytes from a fixed key source");
    }
    used = true;
    System.arraycopy(bytes, 0, out, 0, bytes.length);
  }
}
