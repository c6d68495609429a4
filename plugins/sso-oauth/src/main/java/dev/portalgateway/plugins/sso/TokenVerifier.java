package dev.portalgateway.plugins.sso;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Verifies bearer tokens: shape, issuer, signature against the issuer's keys, {@code exp} and
 * {@code nbf}. Audience and access rules depend on the route and are the filter's. Verified
 * tokens are remembered by a hash of the token, never past their expiry.
 */
final class TokenVerifier {
  private static final MessageDigest SHA256 = newSha256();

  private final Map<String, Issuer> issuers = new LinkedHashMap<>();
  /** {@code null} when {@code token_cache_size} is 0: every request verifies its token. */
  private final VerifiedTokenCache verified;
  private final Function<JWTClaimsSet, Caller> describe;
  private final Clock clock;

  /** Why a token was refused; {@code reason} is a metric label and log field, {@code detail} the client's text. */
  static final class Refused extends Exception {
    final String reason;
    final boolean issuerNotReady;

    Refused(String reason, String detail, boolean issuerNotReady) {
      super(detail, null, false, false);
      this.reason = reason;
      this.issuerNotReady = issuerNotReady;
    }
  }

  /**
   * @param describe works out the caller from verified claims, once per token
   */
  TokenVerifier(List<Issuer> issuers, int cacheSize, Clock clock, Function<JWTClaimsSet, Caller> describe) {
    issuers.forEach(i -> this.issuers.put(i.url(), i));
    this.clock = clock;
    this.describe = describe;
    this.verified = cacheSize == 0 ? null : new VerifiedTokenCache(cacheSize);
  }

  /**
   * Verifies the token at {@code text[from, to)} of an {@code Authorization} value. A token verified
   * before is found by hashing the value's bytes (one copy); the token itself is cut out as a
   * string only when it has to be parsed.
   *
   * @return the caller its verified claims describe
   * @throws Refused with the reason when the token is not acceptable
   */
  Caller verify(String text, int from, int to) throws Refused {
    TokenKey key = verified == null ? null : TokenKey.of(text, from, to);
    Caller cached = key == null ? null : verified.get(key, clock.millis());
    if (cached != null) {
      return cached;
    }
    String token = text.substring(from, to);
    JWT jwt;
    try {
      jwt = JWTParser.parse(token);
    } catch (ParseException e) {
      throw new Refused("malformed", "The bearer token is not a JWT.", false);
    }
    if (!(jwt instanceof SignedJWT signed)) {
      throw new Refused("unsigned", "The bearer token is not signed (alg none or encrypted).", false);
    }
    String iss;
    try {
      iss = signed.getJWTClaimsSet().getIssuer();
    } catch (ParseException e) {
      throw new Refused("malformed", "The bearer token's claims are not a JSON object.", false);
    }
    Issuer issuer = iss == null ? null : issuers.get(iss);
    if (issuer == null) {
      throw new Refused("unknown_issuer", "The bearer token's issuer is not trusted here.", false);
    }
    Issuer.Ready ready = issuer.awaitReady();
    if (ready == null) {
      throw new Refused("issuer_not_ready", "The token's issuer has not been reached yet.", true);
    }
    JWTClaimsSet claims;
    try {
      claims = ready.processor().process(signed, null);
    } catch (BadJOSEException e) {
      throw new Refused(reason(e), describe(e), false);
    } catch (JOSEException e) {
      // The key source could not fetch keys and has none cached for this token.
      throw new Refused("keys_unavailable", "The issuer's signing keys could not be fetched.", true);
    }
    Caller caller = describe.apply(claims);
    if (key != null) {
      verified.put(key, caller, clock.millis());
    }
    return caller;
  }

  private static String reason(BadJOSEException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("xpired")) {
      return "expired";
    }
    if (m.contains("before use time") || m.contains("nbf")) {
      return "not_yet_valid";
    }
    if (m.contains("No matching key") || m.contains("key selector")) {
      return "unknown_key";
    }
    if (m.contains("JWS algorithm not accepted") || m.contains("not accepted")) {
      return "algorithm";
    }
    if (m.contains("iss")) {
      return "issuer";
    }
    if (m.contains("Invalid signature") || m.contains("Signed JWT rejected")) {
      return "signature";
    }
    return "invalid";
  }

  private static String describe(BadJOSEException e) {
    return switch (reason(e)) {
      case "expired" -> "The bearer token has expired.";
      case "not_yet_valid" -> "The bearer token is not valid yet.";
      case "unknown_key" -> "The bearer token is signed with a key the issuer does not publish.";
      case "algorithm" -> "The bearer token's signature algorithm is not accepted.";
      case "issuer" -> "The bearer token's issuer is not trusted here.";
      case "signature" -> "The bearer token's signature is not valid.";
      default -> "The bearer token is not valid.";
    };
  }

  /**
   * A verified token's name in the cache: the first 128 bits of its SHA-256, never the token
   * itself, so a heap dump holds no usable token. Two longs rather than a string: the cache is
   * looked up on every request, among up to {@code token_cache_size} entries that are rarely in
   * the CPU's cache, and comparing two longs touches one object where a Base64 string touched
   * three. Finding a second token with the same 128 bits is a second preimage of SHA-256.
   */
  record TokenKey(long high, long low) {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    static TokenKey of(String token) {
      return of(token, 0, token.length());
    }

    /** The key of the token at {@code text[from, to)}. */
    static TokenKey of(String text, int from, int to) {
      MessageDigest sha256;
      try {
        sha256 = (MessageDigest) SHA256.clone(); // cheaper than a provider lookup on every request
      } catch (CloneNotSupportedException e) {
        sha256 = newSha256();
      }
      sha256.update(text.getBytes(StandardCharsets.ISO_8859_1), from, to - from);
      byte[] d = sha256.digest();
      return new TokenKey((long) LONGS.get(d, 0), (long) LONGS.get(d, 8));
    }

    @Override
    public int hashCode() {
      return (int) (low ^ (low >>> 32)); // already uniformly spread: it is a hash
    }
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
