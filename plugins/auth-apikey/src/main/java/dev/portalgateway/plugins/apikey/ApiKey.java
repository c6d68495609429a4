package dev.portalgateway.plugins.apikey;

import java.security.SecureRandom;

/**
 * An API key as a client presents it: {@code sk_live_<id>_<secret>}. The id is public (it is in
 * {@code list-keys} and in audit lines) and lets the gateway find the one bcrypt hash to check;
 * the secret is 43 base62 characters, 256 bits from {@link SecureRandom}, and is never stored.
 *
 * @param id the public key id
 * @param secret the secret part; never logged, never stored
 */
record ApiKey(String id, String secret) {
  /** What every key starts with, so that people (and a grep of a leaked file) recognise one. */
  static final String PREFIX = "sk_live_";
  static final int ID_LENGTH = 12;
  static final int SECRET_LENGTH = 43;
  /** bcrypt reads at most 72 bytes; a longer secret would be silently cut. */
  private static final int MAX_SECRET_LENGTH = 64;
  private static final int MIN_SECRET_LENGTH = 32;
  private static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

  /**
   * @param text what the client sent
   * @return the key, or {@code null} when the text does not have the shape of a key
   */
  static ApiKey parse(String text) {
    if (text == null || !text.startsWith(PREFIX)) {
      return null;
    }
    int sep = text.indexOf('_', PREFIX.length());
    if (sep < 0) {
      return null;
    }
    String id = text.substring(PREFIX.length(), sep);
    String secret = text.substring(sep + 1);
    if (!isId(id) || secret.length() < MIN_SECRET_LENGTH || secret.length() > MAX_SECRET_LENGTH || !isBase62(secret)) {
      return null;
    }
    return new ApiKey(id, secret);
  }

  /** @return whether {@code id} is shaped like a key id (base62, 8 to 32 characters) */
  static boolean isId(String id) {
    return id != null && id.length() >= 8 && id.length() <= 32 && isBase62(id);
  }

  /** @return a new key with a new id */
  static ApiKey generate(SecureRandom random) {
    return withNewSecret(random, randomBase62(random, ID_LENGTH));
  }

  /** @return a new key with the same id and a new secret, for rotation */
  static ApiKey withNewSecret(SecureRandom random, String id) {
    return new ApiKey(id, randomBase62(random, SECRET_LENGTH));
  }

  /** @return the key as the client sends it */
  String text() {
    return PREFIX + id + '_' + secret;
  }

  @Override
  public String toString() {
    return "ApiKey[id=" + id + "]"; // never the secret
  }

  private static boolean isBase62(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return false;
      }
    }
    return !s.isEmpty();
  }

  /** Uniform over base62 by rejection: 62 does not divide 256, so plain modulo would be biased. */
  private static String randomBase62(SecureRandom random, int length) {
    StringBuilder sb = new StringBuilder(length);
    byte[] buf = new byte[length * 2];
    while (sb.length() < length) {
      random.nextBytes(buf);
      for (int i = 0; i < buf.length && sb.length() < length; i++) {
        int v = buf[i] & 0xFF;
        if (v < 248) { // 248 = 62 * 4
          sb.append(BASE62[v % 62]);
        }
      }
    }
    return sb.toString();
  }
}
