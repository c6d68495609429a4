package dev.portalgateway.bench;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

/**
 * A minimal OIDC issuer for the sso-oauth benchmark: serves a discovery document and a JWKS on
 * loopback, and writes N distinct signed access tokens (each its own subject and id) as
 * {@code Authorization: Bearer ...} lines for {@code LoadGenerator --header-file}.
 *
 * <pre>java -cp benchmarks.jar dev.portalgateway.bench.BenchIssuer TOKENS_FILE COUNT AUDIENCE</pre>
 *
 * Prints {@code ISSUER http://127.0.0.1:PORT} once the files are written and the server answers,
 * then serves until killed.
 */
public final class BenchIssuer implements AutoCloseable {
  private final HttpServer server;
  private final RSAKey key;
  private final String issuer;

  private BenchIssuer(HttpServer server, RSAKey key, String issuer) {
    this.server = server;
    this.key = key;
    this.issuer = issuer;
  }

  /** Starts serving discovery and the JWKS on a free loopback port. */
  public static BenchIssuer start() throws IOException, JOSEException {
    RSAKey key = new RSAKeyGenerator(2048).keyID("bench-1").generate();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    String issuer = "http://127.0.0.1:" + server.getAddress().getPort();
    byte[] discovery = ("{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/jwks\","
        + "\"authorization_endpoint\":\"" + issuer + "/authorize\",\"token_endpoint\":\"" + issuer + "/token\"}")
        .getBytes(StandardCharsets.UTF_8);
    byte[] jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    server.createContext("/.well-known/openid-configuration", ex -> answer(ex, discovery));
    server.createContext("/jwks", ex -> answer(ex, jwks));
    server.start();
    return new BenchIssuer(server, key, issuer);
  }

  /** @return the issuer URL, as tokens name it and the gateway is configured with */
  public String issuer() {
    return issuer;
  }

  /** @return a new RS256 access token for {@code audience}, valid an hour, subject {@code subject} */
  public String token(String subject, String audience) throws JOSEException {
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject(subject).audience(audience)
        .expirationTime(Date.from(Instant.now().plusSeconds(3600))).issueTime(new Date())
        .jwtID(UUID.randomUUID().toString()).claim("scope", "mcp").build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  public static void main(String[] args) throws IOException, JOSEException {
    if (args.length != 3) {
      System.err.println("usage: BenchIssuer TOKENS_FILE COUNT AUDIENCE");
      System.exit(2);
    }
    Path tokens = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    String audience = args[2];
    BenchIssuer issuer = start();
    try (BufferedWriter out = Files.newBufferedWriter(tokens)) {
      for (int i = 0; i < count; i++) {
        out.write("Authorization: Bearer " + issuer.token("user-" + i, audience));
        out.newLine();
      }
    }
    System.out.println("ISSUER " + issuer.issuer());
    System.out.flush();
  }

  private static void answer(com.sun.net.httpserver.HttpExchange ex, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }
}
