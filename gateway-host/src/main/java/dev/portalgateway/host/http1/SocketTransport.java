package dev.portalgateway.host.http1;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A TCP connection, opened with a connect timeout. */
public final class SocketTransport implements Transport {
  private final SocketChannel channel;
  private final InputStream in;
  private final OutputStream out;

  private SocketTransport(SocketChannel channel) throws IOException {
    this.channel = channel;
    this.in = channel.socket().getInputStream();
    this.out = channel.socket().getOutputStream();
  }

  /**
   * @param address where to connect
   * @param connectTimeoutMillis how long to wait for the connection
   * @return the connected transport
   * @throws IOException when the connection fails or times out
   */
  public static SocketTransport connect(InetSocketAddress address, int connectTimeoutMillis) throws IOException {
    SocketChannel channel = SocketChannel.open();
    try {
      channel.socket().setTcpNoDelay(true);
      channel.socket().connect(address, connectTimeoutMillis);
      return new SocketTransport(channel);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public InputStream input() {
    return in;
  }

  @Override
  public OutputStream output() {
    return out;
  }

  @Override
  public void readTimeout(int millis) throws IOException {
    channel.socket().setSoTimeout(millis);
  }

  @Override
  public boolean isStale() {
    if (!channel.isOpen()) {
      return true;
    }
    // One non-blocking read: -1 means the peer closed it while idle; bytes mean it sent something
    // no request asked for. Either way it cannot carry the next exchange.
    try {
      channel.configureBlocking(false);
      try {
        return channel.read(ByteBuffer.allocate(1)) != 0;
      } finally {
        channel.configureBlocking(true);
      }
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
