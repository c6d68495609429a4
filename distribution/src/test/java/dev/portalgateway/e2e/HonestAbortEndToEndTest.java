package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upstream whose chunked body breaks after the head went out (a negative chunk size, one that
 * is not hex, a connection cut inside a chunk): the client must see an incomplete response, never
 * a clean end, the access log must say {@code aborted} with the bytes that did go out, and the
 * gateway must go on serving. Driven with curl against the built jar, as a user would see it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HonestAbortEndToEndTest {
  @TempDir
  Path dir;

  private ServerSocket upstream;
  private Thread upstreamThread;

  @BeforeEach
  void startUpstream() throws IOException {
    upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    upstreamThread = Thread.ofVirtual().start(() -> {
      while (!upstream.isClosed()) {
        try {
          Socket s = upstream.accept();
          Thread.ofVirtual().start(() -> answer(s));
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  /** Reads a request head, then answers by its path. */
  private static void answer(Socket s) {
    try (s) {
      String path = requestPath(s.getInputStream());
      String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
      String rest = switch (path) {
        case "/negative" -> "5\r\nhello\r\n-1\r\nx\r\n0\r\n\r\n";
        case "/not-hex" -> "5\r\nhello\r\nzz\r\nx\r\n0\r\n\r\n";
        case "/signed" -> "5\r\nhello\r\n+1\r\nx\r\n0\r\n\r\n";
        case "/cut" -> "5\r\nhello\r\na\r\nhal"; // ten promised, three sent, then the connection ends
        default -> "5\r\nwhole\r\n0\r\n\r\n";
      };
      s.getOutputStream().write((head + rest).getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      s.shutdownOutput();
      // Wait for the gateway to hang up, so the cut is a clean end of stream, not a reset.
      s.getInputStream().readAllBytes();
    } catch (IOException ignored) {
      // The gateway hung up first.
    }
  }

  private static String requestPath(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int state = 0;
    String first = null;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("request ended early");
      }
      if (first == null) {
        if (b == '\n') {
          first = line.toString().trim();
        } else {
          line.append((char) b);
        }
      }
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    return first.split(" ")[1];
  }

  @AfterEach
  void stop() throws Exception {
    upstream.close();
    upstreamThread.join(5000);
  }

  @Test
  void aBodyThatBreaksAfterTheHeadReachesTheClientCutAndIsLoggedAsAborted() throws Exception {
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, """
        server:
          listen: "127.0.0.1:0"
          admin_listen: "127.0.0.1:0"
        relay:
          enabled: false
        upstreams:
          raw: "http://127.0.0.1:%d"
        """.formatted(upstream.getLocalPort()));
    try (GatewayProcess gateway = GatewayProcess.serve(dir, config)) {
      String base = "http://127.0.0.1:" + gateway.port + "/peer/raw";
      assertThat(curl(base + "/whole")).isEqualTo(new Curl(0, "whole"));
      for (String broken : List.of("/negative", "/not-hex", "/signed", "/cut")) {
        Curl r = curl(base + broken);
        // 18: transfer closed with outstanding read data; 56: failure receiving network data.
        assertThat(r.exitCode()).as("curl's exit status for %s", broken).isIn(18, 56);
        assertThat(r.body()).as("what curl got of %s before the cut", broken).isEqualTo(sentBeforeTheBreak(broken));
        // Still serving.
        assertThat(curl(base + "/whole")).isEqualTo(new Curl(0, "whole"));
      }
      String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + gateway.adminPort + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("portal_gateway_request_outcomes_total{outcome=\"aborted\",} 4.0");
      assertThat(gateway.terminate()).isZero();
      String log = gateway.stdout();
      for (String broken : List.of("/negative", "/not-hex", "/signed", "/cut")) {
        String line = log.lines().filter(l -> l.contains("\"logger\":\"access\"") && l.contains("/peer/raw" + broken + "\""))
            .findFirst().orElseThrow(() -> new AssertionError("no access-log line for " + broken + " in:\n" + log));
        assertThat(line).as(broken).contains("\"status\":200", "\"outcome\":\"aborted\"",
            "\"bytes_out\":" + sentBeforeTheBreak(broken).length() + ",");
      }
      assertThat(log.lines().filter(l -> l.contains("\"outcome\":\"aborted\"")).count()).isEqualTo(4);
    }
  }

  /** The body bytes the upstream sent in good form before the break. */
  private static String sentBeforeTheBreak(String path) {
    return path.equals("/cut") ? "hellohal" : "hello";
  }

  private record Curl(int exitCode, String body) {}

  private Curl curl(String url) throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "curl", ".out");
    Process p = new ProcessBuilder("curl", "-s", "--max-time", "30", "-o", out.toString(), url)
        .redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("curl did not finish");
    }
    return new Curl(p.exitValue(), Files.readString(out));
  }
}
