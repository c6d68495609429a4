package dev.portalgateway.redis;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A small Redis client: RESP2 over a pool of blocking sockets, one command per round trip. The
 * plugins that keep state in Redis share it (shaded into each plugin jar): ratelimit-token-cost's
 * limit store and sso-oauth's session store.
 *
 * <p>Why not Jedis or Lettuce: those stores need a handful of commands ({@code EVALSHA},
 * {@code EVAL}, {@code GET}, {@code SET}, {@code DEL}, {@code AUTH}, {@code SELECT}, and
 * {@code PING} for tests), but they must keep one promise on every
 * request path: never wait longer than its timeout, whatever the server does. Here every wait has
 * an explicit deadline: for a free connection, for DNS, for the TCP connect, for the TLS handshake
 * and for each read (the socket timeout is set to what is left before each read, so a server
 * trickling bytes cannot stretch a call either). A broken connection is closed, never reused, and
 * a failure opens a {@link CircuitBreaker} so that the next calls fail in microseconds. A general
 * client would add a large dependency to the plugin jar, and threads, reconnect loops and retry
 * policies of its own to audit against that promise. Blocking sockets suit the gateway, which runs
 * each request on a virtual thread; this class takes no monitor locks, so none are pinned.
 *
 * <p>Thread-safe. Commands and replies are UTF-8 text: bulk strings come back as {@link String},
 * integers as {@link Long}, simple strings as {@link String}, nil as {@code null}, arrays as
 * {@link List}; an error reply is thrown as {@link ErrorReply} (inside an array it is an element).
 */
public final class RedisClient implements AutoCloseable {
  /** Connections unused this long are closed rather than reused: servers and NAT drop idle TCP. */
  private static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final RedisEndpoint endpoint;
  private final long connectTimeoutNanos;
  private final long timeoutNanos;
  private final int poolSize;
  private final Semaphore permits;
  /** Idle connections, most recently used first, so that the ones at the end can age out. */
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private final CircuitBreaker breaker;
  private volatile boolean closed;

  /**
   * Opens nothing yet: connections are made by the calls that need them.
   *
   * @param breakerCooldown how long calls fail fast after a failure
   */
  public RedisClient(RedisEndpoint endpoint, Duration connectTimeout, Duration timeout, int poolSize, Duration breakerCooldown) {
    this.endpoint = endpoint;
    this.connectTimeoutNanos = connectTimeout.toNanos();
    this.timeoutNanos = timeout.toNanos();
    this.poolSize = poolSize;
    this.permits = new Semaphore(poolSize);
    this.breaker = new CircuitBreaker(breakerCooldown);
  }

  /**
   * Sends one command and reads its reply.
   *
   * @param command the command and its arguments, such as {@code "GET", "k"}
   * @return the reply
   * @throws ErrorReply when Redis answers with an error (the connection stays usable)
   * @throws IOException when Redis cannot be reached, does not answer within the timeout, or
   *     answers something that is not RESP; or, right after such a failure, at once
   *     ({@link CircuitOpenException})
   */
  public Object send(String... command) throws IOException, ErrorReply {
    if (closed) {
      throw new IOException("the Redis client is closed");
    }
    if (!breaker.tryPass()) {
      throw new CircuitOpenException("not trying for a moment after a failure (" + breaker.lastFailure() + ")");
    }
    Object reply;
    long started = breaker.now();
    try {
      reply = exchange(command);
    } catch (IOException | RuntimeException e) {
      if (Thread.currentThread().isInterrupted() || e instanceof PoolBusyException) {
        // Interrupted (shutting down, say), or every connection busy with other calls: either way
        // this says nothing about the server, so the other calls must not fail fast because of it.
        breaker.abandoned();
      } else if (e instanceof SocketTimeoutException) {
        // Late, not gone: the connection it was on is dropped (its reply may still come), the
        // others stay; only several timeouts in a row open the breaker.
        breaker.timedOut(describe(e), started);
      } else {
        breaker.failed(describe(e));
        // One broken connection usually means the others are broken too (a restart, a failover).
        closeIdle();
      }
      throw e;
    }
    breaker.succeeded();
    if (reply instanceof ErrorReply e) {
      throw e;
    }
    return reply;
  }

  /** @return whether calls are failing fast after a failure */
  public boolean failingFast() {
    return breaker.isOpen();
  }

  public RedisEndpoint endpoint() {
    return endpoint;
  }

  /** Closes the idle connections; connections in use are closed when their call ends. */
  @Override
  public void close() {
    closed = true;
    closeIdle();
  }

  private Object exchange(String[] command) throws IOException {
    long start = System.nanoTime();
    long deadline = start + timeoutNanos;
    try {
      if (!permits.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS)) {
        throw new PoolBusyException("all " + poolSize + " connections to Redis stayed busy for "
            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms (raise redis.pool_size)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a connection to Redis");
    }
    Connection c = null;
    try {
      c = takeIdle();
      boolean reused = c != null;
      if (c == null) {
        long opening = System.nanoTime();
        c = open(opening + connectTimeoutNanos);
        deadline += System.nanoTime() - opening; // opening has its own timeout
      }
      Object reply;
      try {
        reply = c.call(command, deadline);
      } catch (EOFException | SocketException e) {
        if (!reused || c.receivedAny || Thread.currentThread().isInterrupted()) {
          throw e;
        }
        // A pooled connection closed before this call: by a restarted Redis, by its idle-client
        // timeout, or by a middlebox. Not a byte came back, so the command almost surely never ran:
        // try once on a new connection. If Redis is really down, that fails too, and quickly.
        c.close();
        c = null;
        closeIdle();
        long opening = System.nanoTime();
        c = open(opening + connectTimeoutNanos);
        deadline += System.nanoTime() - opening;
        reply = c.call(command, deadline);
      }
      giveBack(c);
      c = null;
      return reply;
    } finally {
      if (c != null) {
        c.close(); // its state is unknown: a reply may still be on its way
      }
      permits.release();
    }
  }

  private Connection takeIdle() {
    long now = System.nanoTime();
    Connection c;
    while ((c = idle.pollFirst()) != null) {
      if (now - c.lastUsed < MAX_IDLE_NANOS) {
        return c;
      }
      c.close();
    }
    return null;
  }

  private void giveBack(Connection c) {
    c.lastUsed = System.nanoTime();
    idle.offerFirst(c);
    if (closed) {
      closeIdle(); // close() may have run while this connection was in use
    }
  }

  private void closeIdle() {
    Connection c;
    while ((c = idle.pollFirst()) != null) {
      c.close();
    }
  }

  private Connection open(long deadline) throws IOException {
    try {
      return connect(deadline);
    } catch (SocketTimeoutException e) {
      // Not a late reply but a server that cannot be reached in time: down, so the breaker opens
      // at once (only SocketTimeoutExceptions count as late replies).
      throw new IOException(e.getMessage(), e);
    }
  }

  private Connection connect(long deadline) throws IOException {
    InetAddress address = resolve(endpoint.host(), deadline);
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true); // one small command, then wait: Nagle would only add delay
      socket.setKeepAlive(true);
      socket.connect(new InetSocketAddress(address, endpoint.port()), remainingMillis(deadline, "connecting to Redis"));
      if (endpoint.tls()) {
        SSLSocketFactory factory = (SSLSocketFactory) SSLSocketFactory.getDefault();
        SSLSocket tls = (SSLSocket) factory.createSocket(socket, endpoint.host(), endpoint.port(), true);
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // check the certificate names the host
        tls.setSSLParameters(parameters);
        tls.setSoTimeout(remainingMillis(deadline, "the TLS handshake with Redis"));
        tls.startHandshake();
        socket = tls;
      }
      Connection c = new Connection(socket);
      try {
        if (endpoint.password() != null) {
          if (endpoint.user() != null) {
            c.setUp(deadline, "AUTH", endpoint.user(), endpoint.password());
          } else {
            c.setUp(deadline, "AUTH", endpoint.password());
          }
        }
        if (endpoint.database() != 0) {
          c.setUp(deadline, "SELECT", Integer.toString(endpoint.database()));
        }
      } catch (IOException e) {
        c.close();
        throw e;
      }
      return c;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** Looks the host up, but gives up at the deadline: the JDK's own lookup has no timeout. */
  private static InetAddress resolve(String host, long deadline) throws IOException {
    if (host.indexOf(':') >= 0 || IPV4_LITERAL.matcher(host).matches()) {
      return InetAddress.getByName(host); // an address literal: parsed, not looked up
    }
    FutureTask<InetAddress> lookup = new FutureTask<>(() -> InetAddress.getByName(host));
    // A platform thread, since a lookup blocks in native code; a daemon, so an abandoned lookup stops nothing.
    Thread.ofPlatform().daemon().name("redis-dns-lookup").start(lookup);
    try {
      return lookup.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new SocketTimeoutException("looking up the Redis host took too long");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while looking up the Redis host");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException("cannot look up the Redis host", e.getCause());
    }
  }

  private static int remainingMillis(long deadline, String what) throws SocketTimeoutException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("no time left for " + what);
    }
    // At least 1: a socket timeout of 0 means "wait forever".
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
  }

  /** An error reply, such as {@code NOSCRIPT No matching script}. */
  public static final class ErrorReply extends Exception {
    ErrorReply(String message) {
      super(message, null, false, false); // no stack trace: it is a value, read from the wire
    }

    /** @return the error's code, its first word, such as {@code NOSCRIPT} or {@code ERR} */
    public String code() {
      String m = getMessage();
      int space = m.indexOf(' ');
      return space < 0 ? m : m.substring(0, space);
    }
  }

  /** The server sent something that is not RESP2: the connection is out of step and is dropped. */
  public static final class ProtocolException extends IOException {
    ProtocolException(String message) {
      super(message);
    }
  }

  /** Refused without trying, because Redis failed moments ago. */
  public static final class CircuitOpenException extends IOException {
    CircuitOpenException(String message) {
      super(message);
    }
  }

  /** One socket, used by one call at a time. */
  private static final class Connection {
    /** Replies larger than this are not what the stores ask for: treated as a protocol error. */
    private static final int MAX_BULK = 1 << 20;
    private static final int MAX_LINE = 64 * 1024;
    private static final int MAX_ARRAY = 64 * 1024;
    private static final int MAX_DEPTH = 8;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final ByteArrayOutputStream request = new ByteArrayOutputStream(256);
    private final byte[] buffer = new byte[8192];
    private int position;
    private int limit;
    private long deadline;
    /** Whether any byte of a reply to the current call has arrived. */
    boolean receivedAny;
    long lastUsed;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    /** Runs a command of the connection's set-up, where an error reply (a wrong password) is a failure to connect. */
    void setUp(long deadline, String... command) throws IOException {
      Object reply = call(command, deadline);
      if (reply instanceof ErrorReply e) {
        // The reply names the problem ("WRONGPASS ..."), never the password.
        throw new IOException("Redis refused " + command[0] + ": " + e.getMessage());
      }
    }

    /** @return the reply; an error reply is returned, not thrown */
    Object call(String[] command, long deadline) throws IOException {
      this.deadline = deadline;
      this.receivedAny = position < limit;
      request.reset();
      writeHeader('*', command.length);
      for (String argument : command) {
        byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
        writeHeader('$', bytes.length);
        request.write(bytes, 0, bytes.length);
        request.write('\r');
        request.write('\n');
      }
      // Commands are small, so this fits the socket's send buffer and does not block.
      request.writeTo(out);
      out.flush();
      return readReply(0);
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing more can be done with it
      }
    }

    private void writeHeader(char type, int n) {
      request.write(type);
      byte[] digits = Integer.toString(n).getBytes(StandardCharsets.US_ASCII);
      request.write(digits, 0, digits.length);
      request.write('\r');
      request.write('\n');
    }

    private Object readReply(int depth) throws IOException {
      int type = readByte();
      return switch (type) {
        case '+' -> readLine();
        case '-' -> new ErrorReply(readLine());
        case ':' -> parseLong(readLine());
        case '$' -> {
          long length = parseLong(readLine());
          if (length == -1) {
            yield null;
          }
          if (length < 0 || length > MAX_BULK) {
            throw new ProtocolException("bulk string of " + length + " bytes");
          }
          byte[] bytes = readBytes((int) length);
          if (readByte() != '\r' || readByte() != '\n') {
            throw new ProtocolException("bulk string not followed by CRLF");
          }
          yield new String(bytes, StandardCharsets.UTF_8);
        }
        case '*' -> {
          long count = parseLong(readLine());
          if (count == -1) {
            yield null;
          }
          if (count < 0 || count > MAX_ARRAY || depth >= MAX_DEPTH) {
            throw new ProtocolException("array of " + count + " elements at depth " + depth);
          }
          List<Object> items = new ArrayList<>((int) count);
          for (int i = 0; i < count; i++) {
            items.add(readReply(depth + 1));
          }
          yield items;
        }
        default -> throw new ProtocolException("unexpected reply type byte 0x" + Integer.toHexString(type)
            + " (is this a Redis server, speaking RESP2?)");
      };
    }

    private static long parseLong(String s) throws ProtocolException {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new ProtocolException("not a number: '" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'");
      }
    }

    private String readLine() throws IOException {
      ByteArrayOutputStream line = null;
      while (true) {
        for (int i = position; i < limit; i++) {
          if (buffer[i] == '\n' && (i > position ? buffer[i - 1] == '\r' : endsWithCr(line))) {
            if (line == null) {
              String s = new String(buffer, position, i - 1 - position, StandardCharsets.UTF_8);
              position = i + 1;
              return s;
            }
            line.write(buffer, position, i + 1 - position);
            position = i + 1;
            byte[] bytes = line.toByteArray();
            return new String(bytes, 0, bytes.length - 2, StandardCharsets.UTF_8);
          }
        }
        // No end of line in the buffer yet: keep what is there and read more.
        if (line == null) {
          line = new ByteArrayOutputStream();
        }
        line.write(buffer, position, limit - position);
        position = limit;
        if (line.size() > MAX_LINE) {
          throw new ProtocolException("a reply line longer than " + MAX_LINE + " bytes");
        }
        fill();
      }
    }

    private static boolean endsWithCr(ByteArrayOutputStream line) {
      if (line == null || line.size() == 0) {
        return false;
      }
      byte[] bytes = line.toByteArray();
      return bytes[bytes.length - 1] == '\r';
    }

    private int readByte() throws IOException {
      if (position == limit) {
        fill();
      }
      return buffer[position++] & 0xff;
    }

    private byte[] readBytes(int n) throws IOException {
      byte[] bytes = new byte[n];
      int copied = 0;
      while (copied < n) {
        if (position == limit) {
          fill();
        }
        int chunk = Math.min(n - copied, limit - position);
        System.arraycopy(buffer, position, bytes, copied, chunk);
        position += chunk;
        copied += chunk;
      }
      return bytes;
    }

    /** Reads whatever has arrived, waiting at most until the call's deadline. */
    private void fill() throws IOException {
      socket.setSoTimeout(remainingMillis(deadline, "Redis's reply"));
      int n;
      try {
        n = in.read(buffer);
      } catch (SocketTimeoutException e) {
        throw new SocketTimeoutException("Redis did not answer in time");
      }
      if (n < 0) {
        throw new EOFException("Redis closed the connection");
      }
      position = 0;
      limit = n;
      receivedAny = true;
    }
  }

  /** Every pooled connection stayed busy for the whole timeout: the gateway is busy, not Redis down. */
  public static final class PoolBusyException extends SocketTimeoutException {
    PoolBusyException(String message) {
      super(message);
    }
  }
}
