package dev.portalgateway.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * HTTP/1.1 load over N keep-alive connections, closed loop or open loop.
 *
 * <p><b>Closed loop</b> (the default): each connection sends a request, reads the whole response,
 * and only then sends the next. Throughput is what the server sustains at that concurrency.
 *
 * <p><b>Open loop</b> ({@code --rate N}): requests are scheduled at fixed intervals, N per second
 * in total, spread evenly over the connections (connection i of C sends at
 * {@code start + (k * C + i) / N}). A connection still waiting for an earlier response sends the
 * next request as soon as it can, and every latency is measured from the request's <i>intended</i>
 * send time, not from when it actually left: a server that stalls for 100 ms shows 100 ms of
 * latency for every request scheduled during the stall, instead of one slow request followed by
 * requests that were never sent (coordinated omission, as wrk2's {@code -R} corrects it). A request
 * counts in the measured window when its intended send time falls in it; the run goes on after
 * the window until those are answered, for at most {@code --timeout}, and any still unsent by
 * then counts as an error.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.portalgateway.bench.LoadGenerator \
 *     --url http://127.0.0.1:8080/peer/backend/x --connections 16 --warmup 5s --duration 10s \
 *     [--rate 1000] [--method POST --body '{"a":1}' | --body-file F] \
 *     [--header "Authorization: Bearer t"]... [--header-file FILE] [--timeout 10s] [--max-requests N] [--label NAME]
 * </pre>
 *
 * <p>It runs for warm-up plus duration and stops by itself, or earlier once {@code --max-requests}
 * requests were sent. Only responses that complete inside the measured window count. It prints
 * {@code MEASURING} and {@code MEASURED} when that window opens and closes, then one
 * {@code RESULT key=value ...} line for scripts and one line for people; requests/s and
 * latencies are of 2xx responses, while non-2xx responses and connection failures are counted
 * as errors and listed by kind.
 *
 * <p>Exit status: 0 when some request succeeded, 1 when none did, 2 on bad arguments.
 */
public final class LoadGenerator {
  private LoadGenerator() {}

  /**
   * @param url where to send; {@code http} only
   * @param connections how many connections, each with its own loop
   * @param warmup how long to run before measuring
   * @param duration how long to measure
   * @param headers extra request fields, as {@code Name: value} lines
   * @param maxRequests the most requests sent in total, warm-up included
   * @param timeout how long one connect or one response may take before it counts as failed
   * @param label a name for this run in the output
   * @param rate requests per second in total for an open loop; 0 for a closed loop
   * @param method the request method
   * @param body the request body, sent with {@code Content-Length}; empty for none
   * @param varyingHeaders one request field per line, {@code Name: value}, of which each request
   *     sends the next (connection i starts at line i and steps by the connection count): many
   *     distinct credentials, say; empty for none
   */
  record Options(URI url, int connections, Duration warmup, Duration duration, List<String> headers,
      long maxRequests, Duration timeout, String label, double rate, String method, byte[] body,
      List<String> varyingHeaders) {

    boolean openLoop() {
      return rate > 0;
    }
  }

  public static void main(String[] args) {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("LoadGenerator: " + e.getMessage());
      System.err.println("usage: LoadGenerator --url http://HOST:PORT/PATH [--connections 16] [--warmup 5s]"
          + " [--duration 10s] [--rate N] [--method GET] [--body TEXT | --body-file FILE] [--header 'Name: value']... [--header-file FILE]"
          + " [--timeout 10s] [--max-requests 10000000] [--label NAME]");
      System.exit(2);
      return;
    }
    Summary summary = run(options);
    summary.print(System.out);
    System.exit(summary.succeeded() > 0 ? 0 : 1);
  }

  static Options parse(String[] args) {
    URI url = null;
    int connections = 16;
    Duration warmup = Duration.ofSeconds(5);
    Duration duration = Duration.ofSeconds(10);
    List<String> headers = new ArrayList<>();
    long maxRequests = 10_000_000L;
    Duration timeout = Duration.ofSeconds(10);
    String label = null;
    double rate = 0;
    String method = "GET";
    byte[] body = new byte[0];
    List<String> varying = List.of();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String value = args[++i];
      switch (flag) {
        case "--url" -> url = URI.create(value);
        case "--connections" -> connections = Integer.parseInt(value);
        case "--warmup" -> warmup = parseDuration(value);
        case "--duration" -> duration = parseDuration(value);
        case "--header" -> {
          int colon = value.indexOf(':');
          if (colon <= 0) {
            throw new IllegalArgumentException("--header wants 'Name: value', got '" + value + "'");
          }
          headers.add(value.substring(0, colon).trim() + ": " + value.substring(colon + 1).trim());
        }
        case "--max-requests" -> maxRequests = Long.parseLong(value);
        case "--timeout" -> timeout = parseDuration(value);
        case "--label" -> label = value;
        case "--rate" -> rate = Double.parseDouble(value);
        case "--method" -> method = value.toUpperCase(Locale.ROOT);
        case "--body" -> body = value.getBytes(StandardCharsets.UTF_8);
        case "--header-file" -> {
          try {
            varying = Files.readAllLines(Path.of(value)).stream().filter(l -> !l.isBlank()).toList();
          } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --header-file " + value + ": " + e.getMessage());
          }
          for (String line : varying) {
            if (line.indexOf(':') <= 0) {
              throw new IllegalArgumentException("--header-file lines are 'Name: value', got '" + line + "'");
            }
          }
          if (varying.isEmpty()) {
            throw new IllegalArgumentException("--header-file " + value + " has no lines");
          }
        }
        case "--body-file" -> {
          try {
            body = Files.readAllBytes(Path.of(value));
          } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --body-file " + value + ": " + e.getMessage());
          }
        }
        default -> throw new IllegalArgumentException("unknown option " + flag);
      }
    }
    if (url == null || !"http".equals(url.getScheme()) || url.getHost() == null) {
      throw new IllegalArgumentException("--url must be an http://HOST[:PORT]/PATH URL");
    }
    if (connections < 1 || maxRequests < 1 || duration.isZero() || duration.isNegative() || warmup.isNegative()
        || timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("--connections, --duration, --timeout and --max-requests must be positive");
    }
    if (rate < 0 || Double.isNaN(rate) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("--rate must be a number of requests per second above 0");
    }
    if (!method.matches("[A-Z]+")) {
      throw new IllegalArgumentException("--method must be a method name such as GET or POST");
    }
    return new Options(url, connections, warmup, duration, List.copyOf(headers), maxRequests, timeout,
        label == null ? url.getPath() : label, rate, method, body, varying);
  }

  /** {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}, or a bare number of seconds. */
  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("h")) {
        return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (try 10s or 500ms)");
    }
  }

  static Summary run(Options options) {
    // Every distinct request is built once, before the load: nothing per request but the write.
    byte[][] requests;
    if (options.varyingHeaders().isEmpty()) {
      requests = new byte[][] {requestBytes(options, null)};
    } else {
      requests = options.varyingHeaders().stream().map(h -> requestBytes(options, h)).toArray(byte[][]::new);
    }
    InetSocketAddress target = new InetSocketAddress(options.url().getHost(),
        options.url().getPort() < 0 ? 80 : options.url().getPort());
    long start = System.nanoTime();
    long measureStart = start + options.warmup().toNanos();
    long measureEnd = measureStart + options.duration().toNanos();
    long perConnection = Math.max(1, options.maxRequests() / options.connections());
    List<ConnectionLoop> loops = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    // Open loop: connection i sends at start + (k * C + i) / rate, so the whole set sends evenly.
    long intervalNanos = options.openLoop() ? Math.round(options.connections() * 1e9 / options.rate()) : 0;
    long stepNanos = options.openLoop() ? Math.round(1e9 / options.rate()) : 0;
    for (int i = 0; i < options.connections(); i++) {
      ConnectionLoop loop = new ConnectionLoop(target, requests, i, options.connections(), measureStart, measureEnd,
          perConnection,
          (int) options.timeout().toMillis(), start + i * stepNanos, intervalNanos,
          measureEnd + options.timeout().toNanos());
      // Platform threads: each blocks in a socket read, and the kernel wakes exactly the one whose
      // response arrived; virtual threads would add the JDK's poller and carrier hand-offs to the
      // generator's share of the two cores it has to leave to the server.
      Thread t = new Thread(loop, "load-connection-" + i);
      t.setDaemon(true);
      loops.add(loop);
      threads.add(t);
      t.start();
    }
    // Markers for whoever watches from outside, such as a script sampling the server's CPU time
    // over the measured window. The generator's own share it takes itself, because it may have
    // exited before a watcher gets round to looking.
    sleepUntil(measureStart);
    double cpuAtStart = ownCpuSeconds();
    System.out.println("MEASURING");
    System.out.flush();
    sleepUntil(measureEnd);
    double windowCpu = ownCpuSeconds() - cpuAtStart;
    System.out.println("MEASURED");
    System.out.flush();
    // Every loop stops at measureEnd; one stuck in a read gives up at its timeout. Past that,
    // closing its socket is the only way to free a thread blocked in a classic socket read.
    long giveUp = measureEnd + options.timeout().toNanos() + Duration.ofSeconds(2).toNanos();
    int stuck = 0;
    for (int i = 0; i < threads.size(); i++) {
      long waitMillis = Math.max(1, (giveUp - System.nanoTime()) / 1_000_000);
      try {
        threads.get(i).join(waitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (threads.get(i).isAlive()) {
        stuck++;
        loops.get(i).abort();
        try {
          threads.get(i).join(200); // let it leave its read before its counters are summed
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    return Summary.of(options, loops, stuck, windowCpu);
  }

  /**
   * The generator's own CPU time so far, JVM start-up included: on a machine it shares with the
   * server, this is the part of the CPU the server did not get.
   */
  private static double ownCpuSeconds() {
    return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(-1.0);
  }

  private static void sleepUntil(long nanoTime) {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      try {
        Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static byte[] requestBytes(Options options, String extraHeader) {
    URI url = options.url();
    String target = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
        + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    String host = url.getPort() < 0 ? url.getHost() : url.getHost() + ":" + url.getPort();
    StringBuilder sb = new StringBuilder(256)
        .append(options.method()).append(' ').append(target).append(" HTTP/1.1\r\n")
        .append("Host: ").append(host).append("\r\n")
        .append("User-Agent: portal-gateway-bench\r\n")
        .append("Accept: */*\r\n");
    for (String h : options.headers()) {
      sb.append(h).append("\r\n");
    }
    if (extraHeader != null) {
      sb.append(extraHeader.strip()).append("\r\n");
    }
    if (options.body().length > 0 || !List.of("GET", "HEAD", "DELETE", "OPTIONS").contains(options.method())) {
      sb.append("Content-Length: ").append(options.body().length).append("\r\n");
    }
    byte[] head = sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + options.body().length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(options.body(), 0, all, head.length, options.body().length);
    return all;
  }

  /** One connection's request loop; reconnects when the server closes or the connection fails. */
  static final class ConnectionLoop implements Runnable {
    private final InetSocketAddress target;
    private final byte[][] requests;
    private final int stride;
    private int next;
    private final long measureStart;
    private final long measureEnd;
    private final long maxRequests;
    private final int timeoutMillis;
    /** Open loop: this connection's first intended send time, and the time between its sends; 0 for closed. */
    private final long firstSend;
    private final long intervalNanos;
    /** Open loop: past this, requests still unsent are given up on. */
    private final long hardStop;

    final LatencyHistogram latencies = new LatencyHistogram();

    /** This connection's next request: the only one, or the next of the varying ones. */
    private byte[] nextRequest() {
      byte[] r = requests[next];
      next = (next + stride) % requests.length;
      return r;
    }
    final Map<String, Long> measuredErrors = new TreeMap<>();
    final Map<String, Long> warmupErrors = new TreeMap<>();
    long sent;
    long connects;
    long bodyBytes;
    private volatile Socket socket;
    private volatile boolean aborted;

    ConnectionLoop(InetSocketAddress target, byte[][] requests, int first, int stride, long measureStart,
        long measureEnd, long maxRequests,
        int timeoutMillis, long firstSend, long intervalNanos, long hardStop) {
      this.target = target;
      this.requests = requests;
      this.stride = stride;
      this.next = first % requests.length;
      this.measureStart = measureStart;
      this.measureEnd = measureEnd;
      this.maxRequests = maxRequests;
      this.timeoutMillis = timeoutMillis;
      this.firstSend = firstSend;
      this.intervalNanos = intervalNanos;
      this.hardStop = hardStop;
    }

    @Override
    public void run() {
      if (intervalNanos > 0) {
        runOpen();
        return;
      }
      HttpResponseReader reader = null;
      OutputStream out = null;
      while (sent < maxRequests && System.nanoTime() < measureEnd) {
        long begin = System.nanoTime();
        try {
          if (socket == null) {
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.setSoTimeout(timeoutMillis);
            socket = s;
            s.connect(target, timeoutMillis);
            connects++;
            reader = new HttpResponseReader(s.getInputStream());
            out = s.getOutputStream();
          }
          out.write(nextRequest());
          sent++;
          HttpResponseReader.Response response = reader.read();
          long end = System.nanoTime();
          if (end >= measureStart && end < measureEnd) {
            if (response.status() >= 200 && response.status() < 300) {
              latencies.record(end - begin);
              bodyBytes += response.bodyBytes();
            } else {
              measuredErrors.merge("HTTP " + response.status(), 1L, Long::sum);
            }
          } else if (end < measureStart && (response.status() < 200 || response.status() >= 300)) {
            warmupErrors.merge("HTTP " + response.status(), 1L, Long::sum);
          }
          if (response.closeAfter()) {
            closeQuietly();
          }
        } catch (IOException e) {
          if (aborted) {
            return; // the main thread gave up on this loop and is reading its counters
          }
          long end = System.nanoTime();
          (end < measureStart ? warmupErrors : measuredErrors).merge(describe(e), 1L, Long::sum);
          closeQuietly();
          // A refused or reset connection fails instantly; pause so a dead server is not
          // hammered in a tight loop that would also eat the CPU the server needs to recover.
          pause(Math.min(20, Math.max(0, (measureEnd - System.nanoTime()) / 1_000_000)));
        }
      }
      closeQuietly();
    }

    /**
     * The open loop: request k is due at {@code firstSend + k * intervalNanos}; its latency runs
     * from then, however late it actually left. Requests due before the window closes are all
     * sent and measured, unless the run passes {@code hardStop}: those left are errors.
     */
    private void runOpen() {
      HttpResponseReader reader = null;
      OutputStream out = null;
      for (long k = 0; sent < maxRequests; k++) {
        long due = firstSend + k * intervalNanos;
        if (due >= measureEnd) {
          break;
        }
        long now;
        while ((now = System.nanoTime()) < due) {
          LockSupport.parkNanos(due - now);
        }
        boolean measured = due >= measureStart;
        if (now >= hardStop) {
          // The server fell so far behind that the requests still due cannot be answered in time.
          long left = (measureEnd - due + intervalNanos - 1) / intervalNanos;
          long inWindow = measured ? left : Math.max(0, (measureEnd - measureStart) / intervalNanos);
          if (inWindow > 0) {
            measuredErrors.merge("not sent: the schedule was more than --timeout behind", inWindow, Long::sum);
          }
          break;
        }
        try {
          if (socket == null) {
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.setSoTimeout(timeoutMillis);
            socket = s;
            s.connect(target, timeoutMillis);
            connects++;
            reader = new HttpResponseReader(s.getInputStream());
            out = s.getOutputStream();
          }
          out.write(nextRequest());
          sent++;
          HttpResponseReader.Response response = reader.read();
          long end = System.nanoTime();
          boolean ok = response.status() >= 200 && response.status() < 300;
          if (measured) {
            if (ok) {
              latencies.record(end - due);
              bodyBytes += response.bodyBytes();
            } else {
              measuredErrors.merge("HTTP " + response.status(), 1L, Long::sum);
            }
          } else if (!ok) {
            warmupErrors.merge("HTTP " + response.status(), 1L, Long::sum);
          }
          if (response.closeAfter()) {
            closeQuietly();
          }
        } catch (IOException e) {
          if (aborted) {
            return;
          }
          (measured ? measuredErrors : warmupErrors).merge(describe(e), 1L, Long::sum);
          closeQuietly();
        }
      }
      closeQuietly();
    }

    /** Called from another thread when this loop overstays; unblocks its read. */
    void abort() {
      aborted = true;
      closeQuietly();
    }

    private void closeQuietly() {
      Socket s = socket;
      socket = null;
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // Already broken; nothing more to release.
        }
      }
    }

    private static String describe(IOException e) {
      if (e instanceof SocketTimeoutException) {
        return "timeout (no complete response within --timeout)";
      }
      String message = e.getMessage() == null ? "" : ": " + e.getMessage();
      return e.getClass().getSimpleName() + message;
    }

    private static void pause(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The merged outcome of all connection loops. */
  record Summary(Options options, LatencyHistogram latencies, Map<String, Long> measuredErrors,
      Map<String, Long> warmupErrors, long sent, long connects, long bodyBytes, int stuck, double windowCpuSeconds) {

    static Summary of(Options options, List<ConnectionLoop> loops, int stuck, double windowCpuSeconds) {
      LatencyHistogram all = new LatencyHistogram();
      Map<String, Long> measured = new TreeMap<>();
      Map<String, Long> warmup = new TreeMap<>();
      long sent = 0;
      long connects = 0;
      long bytes = 0;
      for (ConnectionLoop loop : loops) {
        all.add(loop.latencies);
        loop.measuredErrors.forEach((k, v) -> measured.merge(k, v, Long::sum));
        loop.warmupErrors.forEach((k, v) -> warmup.merge(k, v, Long::sum));
        sent += loop.sent;
        connects += loop.connects;
        bytes += loop.bodyBytes;
      }
      return new Summary(options, all, measured, warmup, sent, connects, bytes, stuck, windowCpuSeconds);
    }

    long succeeded() {
      return latencies.count();
    }

    long errors() {
      return measuredErrors.values().stream().mapToLong(Long::longValue).sum();
    }

    long non2xx() {
      return measuredErrors.entrySet().stream().filter(e -> e.getKey().startsWith("HTTP "))
          .mapToLong(Map.Entry::getValue).sum();
    }

    void print(PrintStream out) {
      double seconds = options.duration().toNanos() / 1e9;
      double rps = succeeded() / seconds;
      long warmupErrorCount = warmupErrors.values().stream().mapToLong(Long::longValue).sum();
      out.printf(Locale.ROOT,
          "RESULT label=%s mode=%s rate=%.1f connections=%d warmup_s=%.1f duration_s=%.1f requests=%d rps=%.1f"
              + " errors=%d non2xx=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f mean_ms=%.3f"
              + " body_bytes_avg=%.0f connects=%d sent=%d warmup_errors=%d stuck=%d cpu_s=%.2f window_cpu_s=%.2f%n",
          options.label().replace(' ', '_'), options.openLoop() ? "open" : "closed", options.rate(),
          options.connections(), options.warmup().toNanos() / 1e9, seconds, succeeded(), rps, errors(), non2xx(),
          millis(latencies.percentileNanos(50)), millis(latencies.percentileNanos(90)),
          millis(latencies.percentileNanos(99)), millis(latencies.percentileNanos(99.9)), millis(latencies.maxNanos()),
          latencies.meanNanos() / 1e6, succeeded() == 0 ? 0.0 : (double) bodyBytes / succeeded(),
          connects, sent, warmupErrorCount, stuck, ownCpuSeconds(), windowCpuSeconds);
      out.printf(Locale.ROOT,
          "%s, %d connections%s: %,.0f req/s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms;"
              + " %d errors (%d non-2xx) in %.0f s%n",
          options.label(), options.connections(),
          options.openLoop() ? String.format(Locale.ROOT, ", open loop at %,.0f req/s (latency from the intended send"
              + " time)", options.rate()) : "",
          rps, millis(latencies.percentileNanos(50)),
          millis(latencies.percentileNanos(90)), millis(latencies.percentileNanos(99)), millis(latencies.maxNanos()),
          errors(), non2xx(), seconds);
      measuredErrors.forEach((kind, n) -> out.printf(Locale.ROOT, "  error while measuring: %d x %s%n", n, kind));
      warmupErrors.forEach((kind, n) -> out.printf(Locale.ROOT, "  error during warm-up: %d x %s%n", n, kind));
      if (stuck > 0) {
        out.printf(Locale.ROOT, "  %d connections were still waiting for a response after the timeout%n", stuck);
      }
    }

    private static double millis(long nanos) {
      return nanos / 1e6;
    }
  }
}
