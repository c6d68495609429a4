package dev.portalgateway.portal.crypto;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF-SHA256 (RFC 5869), built from HmacSHA256 because JDK 21 has no HKDF API. */
public final class Hkdf {
  private static final int HASH_LENGTH = 32;

  private Hkdf() {
  }

  /** Extract-then-expand: {@code length} bytes of key material. */
  public static byte[] derive(byte[] ikm, byte[] salt, byte[] info, int length) {
    return expand(extract(salt, ikm), info, length);
  }

  /** HKDF-Extract: the pseudorandom key; an empty salt means 32 zero bytes (RFC 5869 2.2). */
  public static byte[] extract(byte[] salt, byte[] ikm) {
    byte[] effectiveSalt = salt == null || salt.length == 0 ? new byte[HASH_LENGTH] : salt;
    return hmac(effectiveSalt).doFinal(ikm);
  }

  /** HKDF-Expand: {@code length} bytes (at most 255 * 32) from a pseudorandom key. */
  public static byte[] expand(byte[] prk, byte[] info, int length) {
    if (length < 0 || length > 255 * HASH_LENGTH) {
      throw new IllegalArgumentException("HKDF-SHA256 output length out of range: " + length);
    }
    Mac mac = hmac(prk);
    ByteArrayOutputStream okm = new ByteArrayOutputStream(length);
    byte[] previous = new byte[0];
    for (int counter = 1; okm.size() < length; counter++) {
      mac.update(previous);
      mac.update(info);
      mac.update((byte) counter);
      previous = mac.doFinal();
      okm.write(previous, 0, Math.min(previous.length, length - okm.size()));
    }
    return okm.toByteArray();
  }

  private static Mac hmac(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
