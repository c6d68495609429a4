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
public final class BenchIssuer {
  private BenchIssuer() {}

  public static void main(String[] args) throws IOException, JOSEException {
    if (args.length != 3) {
      System.err.println("usage: BenchIssuer TOKENS_FILE COUNT AUDIENCE");
      System.exit(2);
    }
    Path tokens = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    String audience = args[2];
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

    RSASSASigner signer = new RSASSASigner(key);
    Date exp = Date.from(Instant.now().plusSeconds(3600));
    try (BufferedWriter out = Files.newBufferedWriter(tokens)) {
      for (int i = 0; i < count; i++) {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject("user-" + i).audience(audience)
            .expirationTime(exp).issueTime(new Date()).jwtID(UUID.randomUUID().toString()).claim("scope", "mcp").build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(signer);
        out.write("Authorization: Bearer " + jwt.serialize());
        out.newLine();
      }
    }
    System.out.println("ISSUER " + issuer);
    System.out.flush();
  }

  private static void answer(com.sun.net.httpserver.HttpExchange ex, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }
}
