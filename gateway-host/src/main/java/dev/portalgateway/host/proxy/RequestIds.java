package dev.portalgateway.host.proxy;

import java.util.concurrent.ThreadLocalRandom;

/** Request ids: the client's {@code X-Request-Id} when it is sane, else a new random one. */
public final class RequestIds {
  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final int MAX_LENGTH = 128;

  private RequestIds() {}

  /** @return {@code incoming} when it is 1 to 128 visible ASCII characters, else a new id */
  public static String accept(String incoming) {
    if (incoming != null && !incoming.isEmpty() && incoming.length() <= MAX_LENGTH) {
      boolean ok = true;
      for (int i = 0; i < incoming.length() && ok; i++) {
        char c = incoming.charAt(i);
        ok = c > 0x20 && c < 0x7f;
      }
      if (ok) {
        return incoming;
      }
    }
    return generate();
  }

  /**
   * 128 random bits as 32 hex digits. Not a secret, so ThreadLocalRandom (no lock, no entropy
   * pool) rather than SecureRandom, which UUID.randomUUID would take on every request.
   */
  static String generate() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = r.nextLong();
    long lo = r.nextLong();
    char[] out = new char[32];
    for (int i = 0; i < 16; i++) {
      out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xF];
      out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xF];
    }
    return new String(out);
  }
}
