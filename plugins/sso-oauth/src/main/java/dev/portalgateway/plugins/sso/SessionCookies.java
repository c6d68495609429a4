package dev.portalgateway.plugins.sso;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The session cookie: an opaque random id and an HMAC-SHA256 of it under the signing key,
 * {@code ID.MAC}, about 90 characters. The session itself stays on the server; the store keys it
 * by a hash of the id, so that a copy of the store gives no working cookie. Ids and login states
 * are 32 random bytes from {@link SecureRandom}.
 */
final class SessionCookies {
  static final int MIN_KEY_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final byte[] key;

  SessionCookies(byte[] key) {
    this.key = key.clone();
  }

  /**
   * The signing key: from {@code signing_key}, from {@code signing_key_file}, or else made once
   * and kept in the plugin's data directory (mode 0600), which serves one gateway only.
   */
  static SessionCookies load(SsoSettings.SessionSettings settings, Path dataDirectory) throws IOException {
    if (settings.signingKey() != null) {
      return new SessionCookies(decodeKey(settings.signingKey()));
    }
    if (settings.signingKeyFile() != null) {
      Path file = Path.of(settings.signingKeyFile());
      try {
        return new SessionCookies(decodeKey(Files.readString(file).trim()));
      } catch (IllegalArgumentException e) {
        throw new IOException("session.signing_key_file " + file + ": " + e.getMessage());
      }
    }
    Path file = dataDirectory.resolve("session-signing.key");
    if (Files.exists(file)) {
      return new SessionCookies(decodeKey(Files.readString(file).trim()));
    }
    byte[] fresh = randomBytes(MIN_KEY_BYTES);
    Path tmp = Files.createTempFile(dataDirectory, "session-signing", ".tmp");
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException notPosix) {
      // Windows: the data directory's own permissions protect it
    }
    Files.writeString(tmp, Base64.getEncoder().encodeToString(fresh) + "\n");
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException raced) {
      Files.deleteIfExists(tmp);
    }
    return new SessionCookies(decodeKey(Files.readString(file).trim()));
  }

  /** @throws IllegalArgumentException when the text is not base64 of at least 32 bytes */
  static byte[] decodeKey(String text) {
    byte[] key;
    try {
      key = Base64.getDecoder().decode(text.trim());
    } catch (IllegalArgumentException e) {
      try {
        key = Base64.getUrlDecoder().decode(text.trim());
      } catch (IllegalArgumentException e2) {
        throw new IllegalArgumentException("is not base64 (make one with: openssl rand -base64 32)");
      }
    }
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException("must be at least " + MIN_KEY_BYTES + " bytes, base64 (openssl rand -base64 32)");
    }
    return key;
  }

  /** @return a new random id, base64url */
  static String newId() {
    return B64.encodeToString(randomBytes(32));
  }

  /** @return the cookie value for a session id */
  String sign(String id) {
    return id + "." + B64.encodeToString(mac(id));
  }

  /** @return the session id the value carries, or null when it is not one this gateway signed */
  String verify(String value) {
    if (value == null) {
      return null;
    }
    int dot = value.indexOf('.');
    if (dot <= 0 || dot != value.lastIndexOf('.') || value.length() > 200) {
      return null;
    }
    String id = value.substring(0, dot);
    byte[] given;
    try {
      given = Base64.getUrlDecoder().decode(value.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return null;
    }
    return MessageDigest.isEqual(mac(id), given) ? id : null;
  }

  /** @return the key a session id is stored under: its SHA-256, so the store holds no usable cookie */
  static String storeKey(String id) {
    try {
      return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private byte[] mac(String id) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(id.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  static String randomToken() {
    return B64.encodeToString(randomBytes(32));
  }
}
