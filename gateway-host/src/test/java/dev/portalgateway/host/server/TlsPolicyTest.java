package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalgateway.host.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy listener's TLS, as OpenSSL's own client sees it: TLS 1.3 only by default; with
 * {@code min_version: 1.2}, TLS 1.2 with ECDHE and AEAD suites only; a renewed certificate picked
 * up without a restart; HSTS when asked for.
 */
class TlsPolicyTest {
  @TempDir
  Path dir;

  private Path keystore(String name, String alg, String cn) throws Exception {
    Path keystore = dir.resolve(name);
    String keytool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool").toString();
    List<String> cmd = new ArrayList<>(List.of(keytool, "-genkeypair", "-alias", "gateway", "-keyalg", alg));
    cmd.addAll(alg.equals("EC") ? List.of("-groupname", "secp256r1") : List.of("-keysize", "2048"));
    cmd.addAll(List.of("-dname", "CN=" + cn, "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
        "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "test-pass", "-keypass", "test-pass"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    return keystore;
  }

  private TestGateway gateway(Path keystore, String tlsExtra) throws Exception {
    return TestGateway.start("portal", "  tls: { keystore: \"" + keystore + "\", keystore_password: \"test-pass\"" + tlsExtra
        + " }\nupstreams:\n  svc: \"http://127.0.0.1:9\"\n", null);
  }

  /** @return openssl s_client's output; {@code ok} whether a handshake completed */
  private record Handshake(boolean ok, String output) {}

  private static Handshake sClient(int port, String... options) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
        "-servername", "localhost"));
    cmd.addAll(List.of(options));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    boolean ok = p.exitValue() == 0 && out.contains("Cipher is ") && !out.contains("Cipher is (NONE)");
    return new Handshake(ok, out);
  }

  @Test
  void byDefaultOnlyTls13IsSpoken() throws Exception {
    try (TestGateway g = gateway(keystore("ec.p12", "EC", "localhost"), "")) {
      Handshake v13 = sClient(g.port(), "-tls1_3");
      assertThat(v13.ok()).as(v13.output()).isTrue();
      assertThat(v13.output()).contains("TLSv1.3");
      Handshake v12 = sClient(g.port(), "-tls1_2");
      assertThat(v12.ok()).as(v12.output()).isFalse();
      assertThat(sClient(g.port(), "-tls1_1").ok()).isFalse();
    }
  }

  @Test
  void withTls12OnlyEcdheAndAeadSuitesAreAccepted() throws Exception {
    try (TestGateway g = gateway(keystore("rsa.p12", "RSA", "localhost"), ", min_version: \"1.2\"")) {
      Handshake good = sClient(g.port(), "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
      assertThat(good.ok()).as(good.output()).isTrue();
      assertThat(sClient(g.port(), "-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305").ok()).isTrue();
      for (String weak : new String[] {"ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-GCM-SHA256",
          "AES128-GCM-SHA256", "AES256-SHA"}) {
        Handshake h = sClient(g.port(), "-tls1_2", "-cipher", weak);
        assertThat(h.ok()).as(weak + "\n" + h.output()).isFalse();
      }
      assertThat(sClient(g.port(), "-tls1_3").ok()).isTrue();
    }
  }

  @Test
  void aRenewedCertificateIsServedWithoutARestartAndHstsIsSent() throws Exception {
    Path live = dir.resolve("live.p12");
    Files.copy(keystore("first.p12", "EC", "first"), live);
    try (TestGateway g = gateway(live, ", reload_interval: 100ms, hsts_max_age: 365d")) {
      assertThat(sClient(g.port(), "-tls1_3").output()).contains("CN = first");
      Path renewed = keystore("renewed.p12", "EC", "renewed");
      Files.copy(renewed, dir.resolve("live.tmp"));
      Files.move(dir.resolve("live.tmp"), live, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!sClient(g.port(), "-tls1_3").output().contains("CN = renewed")) {
        assertThat(System.nanoTime()).as("the renewed certificate is served").isLessThan(deadline);
        Thread.sleep(100);
      }
      // An answer over TLS carries HSTS (curl-like request through s_client).
      Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + g.port(), "-quiet", "-ign_eof",
          "-tls1_3").redirectErrorStream(true).start();
      p.getOutputStream().write("GET /peer/svc/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      p.getOutputStream().close(); // -ign_eof: it still reads the answer until the gateway closes
      String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      p.waitFor(30, TimeUnit.SECONDS);
      assertThat(answer).containsIgnoringCase("Strict-Transport-Security: max-age=31536000; includeSubDomains");
    }
  }
}
