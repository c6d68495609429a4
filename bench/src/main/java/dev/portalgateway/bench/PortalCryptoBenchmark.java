package dev.portalgateway.bench;

import dev.portalgateway.portal.crypto.Handshake;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.crypto.SecureChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * What the end-to-end encryption to a lease costs the gateway, without any network: the Portal
 * v1 handshake, and the ChaCha20-Poly1305 framing of an established {@link SecureChannel}.
 *
 * <p>Both sides run over in-memory pipes ({@link MemoryPipe}), so the figures are CPU only: no
 * relay, WebSocket or TCP. A request through the relay pays {@link #handshake} once per new
 * connection to the lease (every request with {@code relay.max_idle_per_lease: 0}), and the
 * frame cost on every body it carries, in each direction.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PortalCryptoBenchmark {
  private static final String ALPN = "http/1.1";

  /**
   * One full handshake, both roles: the client (the gateway) in the benchmark thread, the server
   * (the lease's tunnel) in a second thread, as they would run in two processes. The time is
   * one client role plus one server role plus two hand-offs between the threads (a few
   * microseconds each); on two cores the roles mostly run one after the other anyway, since each
   * waits for the other's init.
   */
  @Benchmark
  public void handshake(HandshakeState s, Blackhole bh) throws Exception {
    Future<SecureChannel> server = s.serverThread.submit(
        () -> s.handshake.server(s.toServer.input(), s.toClient.output(), s.serverIdentity, s.alpns));
    SecureChannel client = s.handshake.client(s.toClient.input(), s.toServer.output(), s.clientIdentity,
        s.serverIdentity.id(), ALPN);
    bh.consume(client);
    bh.consume(server.get(10, TimeUnit.SECONDS));
  }

  /**
   * One {@code write} of {@code size} bytes through one channel's output (one encrypted frame)
   * and reading them back through the peer's input (one decryption), in one thread. Throughput
   * in MB/s is {@code size / time}.
   */
  @Benchmark
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public void encryptDecrypt(ChannelState s, Blackhole bh) throws IOException {
    s.writer.output().write(s.plaintext);
    int n = s.reader.input().readNBytes(s.received, 0, s.received.length);
    if (n != s.received.length) {
      throw new IllegalStateException("read " + n + " of " + s.received.length + " bytes");
    }
    bh.consume(s.received);
  }

  /** Identities, a pair of pipes and the thread for the server role. */
  @State(Scope.Thread)
  public static class HandshakeState {
    final Handshake handshake = new Handshake();
    final List<String> alpns = List.of(ALPN);
    PortalIdentity clientIdentity;
    PortalIdentity serverIdentity;
    MemoryPipe toServer;
    MemoryPipe toClient;
    ExecutorService serverThread;

    @Setup(Level.Trial)
    public void setUp() {
      clientIdentity = PortalIdentity.generate();
      serverIdentity = PortalIdentity.generate();
      // The handshake reads exactly its own frames, so one pair of pipes serves every iteration.
      // 1 MiB holds a whole 64 KiB frame, so encryptDecrypt's single thread never blocks.
      toServer = new MemoryPipe(1 << 20);
      toClient = new MemoryPipe(1 << 20);
      serverThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "handshake-server");
        t.setDaemon(true);
        return t;
      });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      serverThread.shutdownNow();
    }
  }

  /** An established pair of channels over pipes large enough that a write never blocks. */
  @State(Scope.Thread)
  public static class ChannelState {
    @Param({"1024", "65536"})
    int size;

    SecureChannel writer;
    SecureChannel reader;
    byte[] plaintext;
    byte[] received;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      HandshakeState hs = new HandshakeState();
      hs.setUp();
      try {
        Future<SecureChannel> server = hs.serverThread.submit(
            () -> hs.handshake.server(hs.toServer.input(), hs.toClient.output(), hs.serverIdentity, hs.alpns));
        writer = hs.handshake.client(hs.toClient.input(), hs.toServer.output(), hs.clientIdentity,
            hs.serverIdentity.id(), ALPN);
        reader = server.get(10, TimeUnit.SECONDS);
      } finally {
        hs.tearDown();
      }
      plaintext = new byte[size];
      ThreadLocalRandom.current().nextBytes(plaintext);
      received = new byte[size];
      // Round trip once to prove the pair works before measuring it.
      writer.output().write(plaintext);
      int n = reader.input().readNBytes(received, 0, size);
      if (n != size || !Arrays.equals(plaintext, received)) {
        throw new IllegalStateException("the channel pair does not round-trip");
      }
    }
  }

  /**
   * A bounded in-memory byte pipe: writes block while it is full, reads while it is empty. Unlike
   * {@link java.io.PipedInputStream} it wakes a waiting reader at once and does not care which
   * threads use it.
   */
  static final class MemoryPipe {
    private final byte[] buffer;
    private int head;
    private int size;
    private boolean closed;
    private final InputStream input = new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return take(b, off, len);
      }

      @Override
      public void close() {
        shut();
      }
    };
    private final OutputStream output = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        put(b, off, len);
      }

      @Override
      public void close() {
        shut();
      }
    };

    MemoryPipe(int capacity) {
      buffer = new byte[capacity];
    }

    InputStream input() {
      return input;
    }

    OutputStream output() {
      return output;
    }

    private synchronized int take(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      while (size == 0 && !closed) {
        waitInterruptibly();
      }
      if (size == 0) {
        return -1;
      }
      int n = Math.min(len, size);
      int first = Math.min(n, buffer.length - head);
      System.arraycopy(buffer, head, b, off, first);
      System.arraycopy(buffer, 0, b, off + first, n - first);
      head = (head + n) % buffer.length;
      size -= n;
      notifyAll();
      return n;
    }

    private synchronized void put(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      while (len > 0) {
        while (size == buffer.length && !closed) {
          waitInterruptibly();
        }
        if (closed) {
          throw new IOException("pipe closed");
        }
        int n = Math.min(len, buffer.length - size);
        int tail = (head + size) % buffer.length;
        int first = Math.min(n, buffer.length - tail);
        System.arraycopy(b, off, buffer, tail, first);
        System.arraycopy(b, off + first, buffer, 0, n - first);
        size += n;
        off += n;
        len -= n;
        notifyAll();
      }
    }

    private synchronized void shut() {
      closed = true;
      notifyAll();
    }

    private void waitInterruptibly() throws InterruptedIOException {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting on the pipe");
      }
    }
  }
}
