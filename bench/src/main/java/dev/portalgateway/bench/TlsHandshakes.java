package dev.portalgateway.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS handshakes per second against an HTTPS listener, with and without session resumption: each
 * connection does a handshake, one request ({@code GET /healthz-like} path), and closes. With
 * {@code resume}, one client SSL context is shared, so the client offers the session (a TLS 1.3
 * ticket) the server gave it before; with {@code fresh}, every connection gets a new context and
 * therefore a full handshake.
 *
 * <pre>java -cp benchmarks.jar dev.portalgateway.bench.TlsHandshakes HOST PORT SECONDS resume|fresh</pre>
 *
 * Prints {@code RESULT mode=... handshakes=N per_second=R}; trusts any certificate (a
 * benchmark against a self-signed loopback listener, never anything else).
 */
public final class TlsHandshakes {
  private TlsHandshakes() {}

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    boolean resume = args[3].equals("resume");
    SSLContext shared = context();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    long start = System.nanoTime();
    int handshakes = 0;
    byte[] buf = new byte[4096];
    while (System.nanoTime() < end) {
      SSLContext ctx = resume ? shared : context();
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(host, port)) {
        s.setTcpNoDelay(true); // as clients in a hurry do; else Nagle's wait, not the handshake, is measured
        s.startHandshake();
        OutputStream out = s.getOutputStream();
        out.write(("GET /peer/none/ HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        while (in.read(buf) >= 0) {
          // read the answer to its end
        }
      }
      handshakes++;
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    System.out.printf("RESULT mode=%s handshakes=%d per_second=%.1f%n", args[3], handshakes, handshakes / elapsed);
  }

  private static SSLContext context() throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, new SecureRandom());
    return ctx;
  }
}
