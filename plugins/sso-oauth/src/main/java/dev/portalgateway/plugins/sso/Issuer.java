package dev.portalgateway.plugins.sso;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.net.URI;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One trusted token issuer: its discovery document, read once it answers, and the processor that
 * verifies its tokens against its published keys. Until discovery succeeds the issuer is not
 * ready, and its tokens are answered {@code 503}: they may well be good.
 */
final class Issuer {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A discovery document is a few KiB; refuse to read a peer's endless answer. */
  private static final int MAX_DOCUMENT_BYTES = 256 * 1024;

  private final String url;
  private final SsoSettings settings;
  private final DefaultResourceRetriever retriever;
  private volatile Ready ready;
  /** Done once the first discovery attempt has ended, either way. */
  private final java.util.concurrent.CompletableFuture<Void> firstAttempt = new java.util.concurrent.CompletableFuture<>();

  /**
   * What discovery found, and the processor built from it.
   *
   * @param endpoints the endpoints browser login uses (any may be null if the issuer has none)
   * @param keys the issuer's key source, shared by access-token and ID-token checks
   */
  record Ready(String jwksUri, DefaultJWTProcessor<SecurityContext> processor, Endpoints endpoints,
      JWKSource<SecurityContext> keys) {}

  /**
   * The issuer's endpoints for browser login.
   *
   * @param s256 whether it says it supports PKCE with S256 ({@code code_challenge_methods_supported})
   */
  record Endpoints(String authorization, String token, String userinfo, String endSession, boolean s256) {}

  /** ID-token processors per client id: the audience differs. */
  private final java.util.concurrent.ConcurrentHashMap<String, DefaultJWTProcessor<SecurityContext>> idTokenProcessors =
      new java.util.concurrent.ConcurrentHashMap<>();

  Issuer(String url, SsoSettings settings) {
    this.url = url;
    this.settings = settings;
    int timeout = (int) settings.discoveryTimeout().toMillis();
    this.retriever = new DefaultResourceRetriever(timeout, timeout, MAX_DOCUMENT_BYTES);
  }

  String url() {
    return url;
  }

  /** @return the processor, or {@code null} while discovery has not succeeded */
  Ready ready() {
    return ready;
  }

  /**
   * The processor, waiting for the first discovery attempt if it is still under way: a request
   * that arrives just after a start or reload should not get 503 only because it came first.
   *
   * @return the processor, or {@code null} while discovery has not succeeded
   */
  Ready awaitReady() {
    Ready r = ready;
    if (r != null || firstAttempt.isDone()) {
      return r;
    }
    try {
      firstAttempt.get(settings.discoveryTimeout().toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // answered 503 below; discovery goes on in the background
    }
    return ready;
  }

  /**
   * Reads the issuer's metadata (OIDC discovery, then RFC 8414) and builds the verifier.
   *
   * @throws IOException when the issuer cannot be reached or its metadata is not usable
   */
  void discover() throws IOException {
    try {
      discoverOnce();
    } finally {
      firstAttempt.complete(null);
    }
  }

  private void discoverOnce() throws IOException {
    String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    URI base = URI.create(trimmed);
    String path = base.getRawPath() == null ? "" : base.getRawPath();
    String origin = base.getScheme() + "://" + base.getRawAuthority();
    IOException last = null;
    for (String candidate : new String[] {
        trimmed + "/.well-known/openid-configuration",
        origin + "/.well-known/oauth-authorization-server" + path}) {
      try {
        JsonNode doc = fetch(candidate);
        String issuer = doc.path("issuer").asText(null);
        if (!url.equals(issuer)) {
          // RFC 8414 section 3.3 and OIDC discovery 4.3: a mismatch means someone else's metadata.
          throw new IOException(candidate + " names issuer '" + issuer + "', not '" + url + "'");
        }
        String jwksUri = doc.path("jwks_uri").asText(null);
        if (jwksUri == null) {
          throw new IOException(candidate + " has no jwks_uri");
        }
        // Keys over plain HTTP could be swapped on the way: only an http issuer (localhost, for
        // tests; the settings allow no other) may publish them so.
        if (!jwksUri.startsWith("https://") && !(url.startsWith("http://") && jwksUri.startsWith("http://"))) {
          throw new IOException(candidate + " names jwks_uri " + jwksUri + ", which is not https");
        }
        JWKSource<SecurityContext> keys = keySource(jwksUri);
        boolean s256 = false;
        for (JsonNode m : doc.path("code_challenge_methods_supported")) {
          s256 |= "S256".equals(m.asText());
        }
        Endpoints endpoints = new Endpoints(endpoint(doc, "authorization_endpoint"), endpoint(doc, "token_endpoint"),
            endpoint(doc, "userinfo_endpoint"), endpoint(doc, "end_session_endpoint"), s256);
        this.ready = new Ready(jwksUri, processor(keys), endpoints, keys);
        return;
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  private JsonNode fetch(String uri) throws IOException {
    JsonNode doc;
    try {
      // The same retriever as the key set's: timeouts, a size cap, an error for any non-2xx status.
      doc = JSON.readTree(retriever.retrieveResource(URI.create(uri).toURL()).getContent());
    } catch (IllegalArgumentException e) {
      throw new IOException(uri + ": " + e.getMessage(), e);
    }
    if (doc == null || !doc.isObject()) {
      throw new IOException(uri + " did not answer a JSON object");
    }
    return doc;
  }

  /** An endpoint from the metadata, only when it is https (or http for an http localhost issuer). */
  private String endpoint(JsonNode doc, String name) {
    String value = doc.path(name).asText(null);
    if (value == null || value.isBlank()) {
      return null;
    }
    boolean https = value.startsWith("https://");
    boolean localHttp = url.startsWith("http://") && value.startsWith("http://");
    return https || localHttp ? value : null;
  }

  /**
   * A processor for this issuer's ID tokens issued to {@code clientId}: signature against the
   * same keys, {@code iss} exact, {@code aud} holding the client id, {@code exp}, {@code iat} and
   * {@code sub} present. The nonce is the login's to check.
   */
  DefaultJWTProcessor<SecurityContext> idTokenProcessor(Ready r, String clientId) {
    return idTokenProcessors.computeIfAbsent(clientId, id -> {
      Set<JWSAlgorithm> algorithms = settings.algorithms().stream().map(JWSAlgorithm::parse).collect(Collectors.toSet());
      DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
      p.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, r.keys()));
      DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(id,
          new JWTClaimsSet.Builder().issuer(url).build(), Set.of("exp", "iat", "sub"));
      claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
      p.setJWTClaimsSetVerifier(claims);
      return p;
    });
  }

  private JWKSource<SecurityContext> keySource(String jwksUri) throws IOException {
    int timeout = (int) settings.discoveryTimeout().toMillis();
    JWKSource<SecurityContext> keys;
    try {
      // The library's key source: cached for jwks_refresh, fetched again at once for an unknown
      // key id (rotation) but at most every jwks_min_interval, and the last keys kept through an
      // outage of the issuer.
      keys = JWKSourceBuilder.<SecurityContext>create(URI.create(jwksUri).toURL(), retriever)
          .cache(settings.jwksRefresh().toMillis(), timeout)
          .rateLimited(settings.jwksMinInterval().toMillis())
          .outageTolerant(Math.max(settings.jwksRefresh().toMillis() * 4, 3_600_000L))
          .build();
    } catch (java.net.MalformedURLException | IllegalArgumentException e) {
      throw new IOException("jwks_uri " + jwksUri + " is not a URL", e);
    }
    return keys;
  }

  private DefaultJWTProcessor<SecurityContext> processor(JWKSource<SecurityContext> keys) {
    Set<JWSAlgorithm> algorithms = settings.algorithms().stream().map(JWSAlgorithm::parse).collect(Collectors.toSet());
    DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
    // RFC 9068 access tokens say at+jwt; most IdPs still say JWT or nothing.
    p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"),
        new JOSEObjectType("application/at+jwt"), null));
    p.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, keys));
    // Audience is checked by the filter: it depends on the route. Issuer exact, exp required.
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(null,
        new JWTClaimsSet.Builder().issuer(url).build(), Set.of("exp"));
    claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
    p.setJWTClaimsSetVerifier(claims);
    return p;
  }
}
