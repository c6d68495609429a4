package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.Headers;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a webhook's signature before it is stored, so that junk is never queued: GitHub
 * ({@code X-Hub-Signature-256}), Stripe ({@code Stripe-Signature}) and Standard Webhooks
 * ({@code webhook-id}, {@code webhook-timestamp}, {@code webhook-signature}), all HMAC-SHA256.
 * Comparisons are constant-time; the secret is never logged or returned.
 */
final class Signatures {
  private static final String WHSEC = "whsec_";

  private final String scheme;
  private final byte[] key;
  private final Duration tolerance;

  Signatures(WebhookSettings.SignatureSettings settings) {
    this.scheme = settings.scheme();
    this.tolerance = settings.tolerance();
    this.key = scheme.equals("standard")
        ? Base64.getDecoder().decode(settings.secret().substring(WHSEC.length()))
        : settings.secret().getBytes(StandardCharsets.UTF_8);
  }

  static boolean isStandardSecret(String secret) {
    if (!secret.startsWith(WHSEC) || secret.length() == WHSEC.length()) {
      return false;
    }
    try {
      Base64.getDecoder().decode(secret.substring(WHSEC.length()));
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * @param headers the request's headers
   * @param body the request's body
   * @param now the time to check timestamps against
   * @return null when the signature is valid, else why not (never a secret or a signature)
   */
  String problem(Headers headers, byte[] body, Instant now) {
    return switch (scheme) {
      case "github" -> github(headers, body);
      case "stripe" -> stripe(headers, body, now);
      default -> standard(headers, body, now);
    };
  }

  private String github(Headers headers, byte[] body) {
    String given = headers.first("X-Hub-Signature-256");
    if (given == null) {
      return "no X-Hub-Signature-256 header";
    }
    if (!given.startsWith("sha256=")) {
      return "X-Hub-Signature-256 is not sha256=HEX";
    }
    byte[] expected = HexFormat.of().formatHex(hmac(body)).getBytes(StandardCharsets.US_ASCII);
    byte[] actual = given.substring("sha256=".length()).trim().toLowerCase(java.util.Locale.ROOT)
        .getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, actual) ? null : "the signature does not match the body";
  }

  private String stripe(Headers headers, byte[] body, Instant now) {
    String given = headers.first("Stripe-Signature");
    if (given == null) {
      return "no Stripe-Signature header";
    }
    String timestamp = null;
    java.util.List<String> signatures = new java.util.ArrayList<>();
    for (String part : given.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String name = part.substring(0, eq).trim();
      String value = part.substring(eq + 1).trim();
      if (name.equals("t")) {
        timestamp = value;
      } else if (name.equals("v1")) {
        signatures.add(value);
      }
    }
    if (timestamp == null || signatures.isEmpty()) {
      return "Stripe-Signature lacks t= or v1=";
    }
    String stale = staleness(timestamp, now);
    if (stale != null) {
      return stale;
    }
    byte[] expected = HexFormat.of().formatHex(hmac(concat(timestamp + ".", body))).getBytes(StandardCharsets.US_ASCII);
    return anyEqual(expected, signatures) ? null : "the signature does not match the body";
  }

  private String standard(Headers headers, byte[] body, Instant now) {
    String id = headers.first("webhook-id");
    String timestamp = headers.first("webhook-timestamp");
    String given = headers.first("webhook-signature");
    if (id == null || timestamp == null || given == null) {
      return "webhook-id, webhook-timestamp and webhook-signature are required";
    }
    String stale = staleness(timestamp, now);
    if (stale != null) {
      return stale;
    }
    byte[] expected = Base64.getEncoder().encode(hmac(concat(id + "." + timestamp + ".", body)));
    java.util.List<String> signatures = new java.util.ArrayList<>();
    for (String entry : given.trim().split(" +")) { // several, for key rotation
      if (entry.startsWith("v1,")) {
        signatures.add(entry.substring(3));
      }
    }
    return anyEqual(expected, signatures) ? null : "the signature does not match the body";
  }

  private String staleness(String timestamp, Instant now) {
    long seconds;
    try {
      seconds = Long.parseLong(timestamp.trim());
    } catch (NumberFormatException e) {
      return "the signed timestamp is not a number";
    }
    if (Math.abs(now.getEpochSecond() - seconds) > tolerance.toSeconds()) {
      return "the signed timestamp is more than " + tolerance.toSeconds() + " s from now (a replay, or a clock off)";
    }
    return null;
  }

  private static boolean anyEqual(byte[] expected, java.util.List<String> candidates) {
    boolean match = false;
    for (String c : candidates) {
      match |= MessageDigest.isEqual(expected, c.getBytes(StandardCharsets.US_ASCII)); // no early exit
    }
    return match;
  }

  private static byte[] concat(String prefix, byte[] body) {
    byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[p.length + body.length];
    System.arraycopy(p, 0, all, 0, p.length);
    System.arraycopy(body, 0, all, p.length, body.length);
    return all;
  }

  private byte[] hmac(byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
