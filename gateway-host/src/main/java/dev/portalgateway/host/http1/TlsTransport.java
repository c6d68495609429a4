package dev.portalgateway.host.http1;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** A TLS connection to an {@code https://} upstream, verified against the JDK's trust store and the host name. */
public final class TlsTransport implements Transport {
  private final SSLSocket socket;

  private TlsTransport(SSLSocket socket) {
    this.socket = socket;
  }

  /**
   * @param host the host name, for SNI and certificate verification
   * @param port the port
   * @param connectTimeoutMillis how long to wait for the TCP connection and the handshake
   * @return the connected transport
   * @throws IOException when connecting or the handshake fails
   */
  public static TlsTransport connect(String host, int port, int connectTimeoutMillis) throws IOException {
    Socket plain = new Socket();
    try {
      plain.setTcpNoDelay(true);
      plain.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
      SSLSocket tls = (SSLSocket) SSLContext.getDefault().getSocketFactory().createSocket(plain, host, port, true);
      SSLParameters params = tls.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      params.setApplicationProtocols(new String[] {"http/1.1"});
      tls.setSSLParameters(params);
      tls.setSoTimeout(connectTimeoutMillis);
      tls.startHandshake();
      tls.setSoTimeout(0);
      return new TlsTransport(tls);
    } catch (java.security.NoSuchAlgorithmException e) {
      plain.close();
      throw new IOException("no TLS support in this JVM", e);
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  @Override
  public InputStream input() throws IOException {
    return socket.getInputStream();
  }

  @Override
  public OutputStream output() throws IOException {
    return socket.getOutputStream();
  }

  @Override
  public void readTimeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  @Override
  public boolean isStale() {
    // A TLS stream cannot be peeked without consuming records; a stale connection is caught when
    // the exchange fails before any response byte, and replayable requests are retried.
    return socket.isClosed() || socket.isInputShutdown() || socket.isOutputShutdown();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
