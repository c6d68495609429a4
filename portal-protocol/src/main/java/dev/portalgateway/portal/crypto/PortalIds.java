package dev.portalgateway.portal.crypto;

import dev.portalgateway.portal.wire.Identity;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Portal IDs: the name of a peer (and of its lease), derived from its Ed25519 public key so that
 * an ID can be checked against the key that claims it.
 */
public final class PortalIds {
  private static final byte[] ID_KEY = "RDVERB_PROTOCOL_VER_01_SHA256_ID".getBytes(StandardCharsets.US_ASCII);
  private static final char[] BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

  private PortalIds() {
  }

  /**
   * The ID of {@code publicKey}: the first 16 bytes of HMAC-SHA256 keyed with the protocol
   * constant, in RFC 4648 base32 upper case without padding (26 characters).
   */
  public static String deriveId(byte[] publicKey) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(ID_KEY, "HmacSHA256"));
      byte[] digest = mac.doFinal(publicKey);
      byte[] truncated = new byte[16];
      System.arraycopy(digest, 0, truncated, 0, 16);
      return base32(truncated);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  /** Whether {@code identity} has a 32-byte key and the ID that key derives to. */
  public static boolean isValid(Identity identity) {
    return identity != null
        && identity.publicKey().length == PortalIdentity.PUBLIC_KEY_LENGTH
        && identity.id().equals(deriveId(identity.publicKey()));
  }

  /** RFC 4648 base32, upper case, no padding. */
  static String base32(byte[] data) {
    StringBuilder text = new StringBuilder((data.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : data) {
      buffer = buffer << 8 | (b & 0xFF);
      bits += 8;
      while (bits >= 5) {
        text.append(BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    if (bits > 0) {
      // The last partial group is padded with zero bits on the right.
      text.append(BASE32_ALPHABET[(buffer << (5 - bits)) & 31]);
    }
    return text.toString();
  }
}
