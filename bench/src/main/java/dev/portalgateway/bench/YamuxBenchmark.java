package dev.portalgateway.bench;

import dev.portalgateway.portal.yamux.YamuxConfig;
import dev.portalgateway.portal.yamux.YamuxSession;
import dev.portalgateway.portal.yamux.YamuxStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The yamux framing that carries every byte to and from a lease: one {@code write} of
 * {@code size} bytes into a stream of a client session (one Data frame: the 64 KiB case is
 * exactly the largest frame the session sends) and reading them back from the peer stream of a
 * server session, in the benchmark thread.
 *
 * <p>Between the two, the server session's own reader thread (virtual, as in the gateway) reads
 * the frame from the transport and queues its body for the stream; so each operation includes
 * one hand-off to that thread and back. Every 128 KiB read, the reading side returns credit to
 * the writer with a WindowUpdate frame, as it does in use.
 *
 * <p>Transports: {@code memory} is a pair of in-memory pipes (CPU only: framing, locks, copies,
 * thread hand-offs); {@code tcp} is a loopback socket pair with TCP_NODELAY, which adds the
 * system calls. Neither has the WebSocket framing or the E2EE that surround yamux on the relay
 * path ({@link PortalCryptoBenchmark} measures the latter).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class YamuxBenchmark {
  @Param({"1024", "65536"})
  int size;

  @Param({"memory", "tcp"})
  String transport;

  private Closeable clientTransport;
  private Closeable serverTransport;
  private YamuxSession client;
  private YamuxSession server;
  private OutputStream writer;
  private InputStream reader;
  private byte[] payload;
  private byte[] received;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    // No keepalive pings: one every 30 s would land in some iteration and not in others.
    YamuxConfig config = YamuxConfig.defaults().withKeepalive(java.time.Duration.ZERO, java.time.Duration.ofSeconds(10));
    if (transport.equals("memory")) {
      // 1 MiB each way: a whole frame always fits, so a write waits only for the window.
      PortalCryptoBenchmark.MemoryPipe toServer = new PortalCryptoBenchmark.MemoryPipe(1 << 20);
      PortalCryptoBenchmark.MemoryPipe toClient = new PortalCryptoBenchmark.MemoryPipe(1 << 20);
      clientTransport = () -> {
        toServer.output().close();
        toClient.input().close();
      };
      serverTransport = () -> {
        toClient.output().close();
        toServer.input().close();
      };
      client = new YamuxSession(toClient.input(), toServer.output(), clientTransport, YamuxSession.Role.CLIENT,
          config, "bench-client").start();
      server = new YamuxSession(toServer.input(), toClient.output(), serverTransport, YamuxSession.Role.SERVER,
          config, "bench-server").start();
    } else {
      Socket c;
      Socket s;
      try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
          try {
            return listener.accept();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
        c = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        s = accepted.get(5, TimeUnit.SECONDS);
      }
      // As on the relay path since the TCP_NODELAY change: no small frame waits for an ACK.
      c.setTcpNoDelay(true);
      s.setTcpNoDelay(true);
      clientTransport = c;
      serverTransport = s;
      client = new YamuxSession(c.getInputStream(), c.getOutputStream(), c, YamuxSession.Role.CLIENT, config,
          "bench-client").start();
      server = new YamuxSession(s.getInputStream(), s.getOutputStream(), s, YamuxSession.Role.SERVER, config,
          "bench-server").start();
    }
    YamuxStream opened = client.openStream();
    YamuxStream accepted = server.acceptStream();
    writer = opened.getOutputStream();
    reader = accepted.getInputStream();
    payload = new byte[size];
    ThreadLocalRandom.current().nextBytes(payload);
    received = new byte[size];
    // Round trip once to prove the pair works before measuring it.
    writer.write(payload);
    if (reader.readNBytes(received, 0, size) != size || !Arrays.equals(payload, received)) {
      throw new IllegalStateException("the stream pair does not round-trip");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    client.close();
    server.close();
    clientTransport.close();
    serverTransport.close();
  }

  /** One Data frame of {@code size} bytes written on one side and read on the other. */
  @Benchmark
  public void writeRead(Blackhole bh) throws IOException {
    writer.write(payload);
    int n = reader.readNBytes(received, 0, size);
    if (n != size) {
      throw new IllegalStateException("read " + n + " of " + size + " bytes");
    }
    bh.consume(received);
  }
}
