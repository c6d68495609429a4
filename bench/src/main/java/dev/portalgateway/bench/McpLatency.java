package dev.portalgateway.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Latency of MCP calls through the gateway with the cache-mcp plugin: answers from the cache
 * against answers that go through the relay, on one keep-alive connection, one request at a time.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.portalgateway.bench.McpLatency \
 *     --url http://127.0.0.1:8080/peer/mcp/mcp --warmup 2000 --samples 5000 \
 *     [--block 50] [--purge-url http://127.0.0.1:9090/plugins/cache-mcp/purge?lease=mcp] \
 *     [--direct-url http://127.0.0.1:PORT/mcp] [--timeout 10s] [--raw FILE]
 * </pre>
 *
 * <p>After {@code initialize} and {@code notifications/initialized}, it sends blocks of
 * {@code --block} requests of each kind in turn until each kind has had {@code --warmup} requests,
 * then again until each has had {@code --samples} measured ones:
 *
 * <ul>
 *   <li>{@code hit}: {@code tools/list}, a 5.7 KB result of tools and schemas, which cache-mcp caches
 *       by default; every answer after the first must say {@code X-Cache: HIT};
 *   <li>{@code miss}: {@code tools/call} of {@code echo} with a different text each time, which
 *       cache-mcp never caches unless told to; every answer must say {@code X-Cache: MISS};
 *   <li>{@code list-miss} (only with {@code --purge-url}): {@code tools/list} again, each one
 *       right after a purge of the lease's entries on the admin listener (outside the timing), so
 *       it is the same request as {@code hit} answered by the MCP server through the relay, and
 *       stored again. Every purge must drop exactly one entry and the answer must say {@code MISS}.
 * </ul>
 *
 * <p>Every answer must be 200 {@code application/json} and, byte for byte, what
 * {@link McpBenchServer} writes for that request's id: a cached answer carries the new id. Any
 * deviation ends the run with exit status 1. A latency runs from the first byte of the request
 * written to the last byte of the answer read. With {@code --direct-url} it then measures
 * {@code tools/list} and {@code tools/call} straight at the MCP server the same way (no
 * {@code X-Cache} expected), for scale.
 *
 * <p>{@code --raw FILE} appends every measured latency to FILE, in the order measured, as
 * {@code KIND NANOSECONDS} lines.
 *
 * <p>It prints one {@code RESULT kind=... p50_ms=... p90_ms=... p99_ms=... max_ms=...} line per
 * kind, a {@code RATIO} line (miss over hit, at each percentile), and a readable table.
 */
public final class McpLatency {
  private static final String PROTOCOL_VERSION = "2025-06-18";

  private McpLatency() {}

  /** Thrown when an answer is not what the benchmark expects: the run is invalid. */
  static final class Unexpected extends Exception {
    Unexpected(String message) {
      super(message);
    }
  }

  record Options(URI url, int warmup, int samples, int block, URI purgeUrl, URI directUrl, int timeoutMillis,
      Path raw) {}

  public static void main(String[] args) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("McpLatency: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      Map<String, LatencyHistogram> results = new LinkedHashMap<>();
      List<String> notes = new ArrayList<>();
      Run gateway = new Run(o.url(), o.purgeUrl(), true, o);
      gateway.measure(results, notes);
      if (o.directUrl() != null) {
        new Run(o.directUrl(), null, false, o).measure(results, notes);
      }
      report(results, notes);
    } catch (Unexpected e) {
      System.out.flush();
      System.err.println("McpLatency: FAILED: " + e.getMessage());
      System.exit(1);
    } catch (IOException e) {
      System.out.flush();
      System.err.println("McpLatency: FAILED: " + e);
      System.exit(1);
    }
  }

  static Options parse(String[] args) {
    URI url = null;
    URI purge = null;
    URI direct = null;
    int warmup = 2000;
    int samples = 5000;
    int block = 50;
    Duration timeout = Duration.ofSeconds(10);
    Path raw = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String v = args[++i];
      switch (flag) {
        case "--url" -> url = URI.create(v);
        case "--purge-url" -> purge = URI.create(v);
        case "--direct-url" -> direct = URI.create(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        case "--samples" -> samples = Integer.parseInt(v);
        case "--block" -> block = Integer.parseInt(v);
        case "--timeout" -> timeout = LoadGenerator.parseDuration(v);
        case "--raw" -> raw = Path.of(v);
        default -> throw new IllegalArgumentException("unknown option " + flag);
      }
    }
    for (URI u : Arrays.asList(url, purge, direct)) {
      if (u != null && (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0)) {
        throw new IllegalArgumentException("URLs must be http://HOST:PORT/PATH: " + u);
      }
    }
    if (url == null) {
      throw new IllegalArgumentException("--url is required (http://127.0.0.1:PORT/peer/mcp/mcp)");
    }
    if (warmup < 0 || samples < 1 || block < 1 || timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("--samples, --block and --timeout must be positive, --warmup not negative");
    }
    return new Options(url, warmup, samples, block, purge, direct, (int) timeout.toMillis(), raw);
  }

  /** One target: the gateway (with X-Cache checks) or the MCP server directly. */
  private static final class Run {
    private final Options o;
    private final boolean gateway;
    private final Connection conn;
    private final Connection admin;
    private final byte[] toolsResult = McpBenchServer.toolsListResult();
    private long nextId = 1;
    private boolean listedBefore;
    /** With --raw: every measured latency, in order, as "kind nanos" lines. */
    private final StringBuilder raw;
    private boolean measuring;

    Run(URI url, URI purgeUrl, boolean gateway, Options o) {
      this.o = o;
      this.gateway = gateway;
      this.conn = new Connection(url, o.timeoutMillis());
      this.admin = purgeUrl == null ? null : new Connection(purgeUrl, o.timeoutMillis());
      this.raw = o.raw() == null ? null : new StringBuilder();
    }

    void measure(Map<String, LatencyHistogram> results, List<String> notes) throws IOException, Unexpected {
      String where = gateway ? "gateway" : "direct";
      initialize();
      List<String> kinds = new ArrayList<>(gateway ? List.of("hit", "miss") : List.of("direct-list", "direct-call"));
      if (admin != null) {
        kinds.add("list-miss");
      }
      Map<String, LatencyHistogram> warm = new LinkedHashMap<>();
      Map<String, LatencyHistogram> measured = new LinkedHashMap<>();
      for (String k : kinds) {
        warm.put(k, new LatencyHistogram());
        measured.put(k, new LatencyHistogram());
      }
      long t0 = System.nanoTime();
      rounds(kinds, warm, o.warmup());
      long connectsAfterWarmup = conn.connects;
      long t1 = System.nanoTime();
      System.out.printf(Locale.ROOT, "%s: warm-up done, %d requests per kind in %.1f s%n", where, o.warmup(),
          (t1 - t0) / 1e9);
      // Markers for the script, which samples the other processes' CPU time between them.
      System.out.println("MEASURING " + where);
      System.out.flush();
      long cpu0 = cpuNanos();
      measuring = true;
      rounds(kinds, measured, o.samples());
      measuring = false;
      long t2 = System.nanoTime();
      System.out.printf(Locale.ROOT, "MEASURED %s seconds=%.2f client_cpu_s=%.2f%n", where, (t2 - t1) / 1e9,
          (cpuNanos() - cpu0) / 1e9);
      System.out.printf(Locale.ROOT, "%s: measured %d requests per kind in %.1f s%n", where, o.samples(), (t2 - t1) / 1e9);
      System.out.flush();
      if (conn.connects != connectsAfterWarmup) {
        notes.add(where + ": the connection was reopened " + (conn.connects - connectsAfterWarmup)
            + " times while measuring (the server closed it)");
      }
      results.putAll(measured);
      if (raw != null) {
        Files.writeString(o.raw(), raw, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      }
      conn.close();
      if (admin != null) {
        admin.close();
      }
    }

    private void initialize() throws IOException, Unexpected {
      long id = nextId++;
      String init = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\""
          + PROTOCOL_VERSION + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"McpLatency\",\"version\":\"1\"}}}";
      Reply r = conn.post(init.getBytes(StandardCharsets.UTF_8));
      check(r, "initialize", gateway ? "MISS" : null);
      if (r.sessionId() == null) {
        throw new Unexpected("initialize: no Mcp-Session-Id in the answer");
      }
      conn.sessionId = r.sessionId();
      Reply n = conn.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}".getBytes(StandardCharsets.UTF_8));
      if (n.status() != 202) {
        throw new Unexpected("notifications/initialized: status " + n.status() + ", expected 202");
      }
      if (gateway && !"BYPASS".equals(n.xCache())) {
        throw new Unexpected("notifications/initialized: X-Cache " + n.xCache() + ", expected BYPASS");
      }
    }

    /** Blocks of each kind in turn until each kind has {@code perKind} requests. */
    private void rounds(List<String> kinds, Map<String, LatencyHistogram> into, int perKind)
        throws IOException, Unexpected {
      int done = 0;
      while (done < perKind) {
        int n = Math.min(o.block(), perKind - done);
        for (String kind : kinds) {
          LatencyHistogram h = into.get(kind);
          for (int i = 0; i < n; i++) {
            one(kind, h);
          }
        }
        done += n;
      }
    }

    private void one(String kind, LatencyHistogram h) throws IOException, Unexpected {
      long id = nextId++;
      String idJson = Long.toString(id);
      byte[] request;
      byte[] expected;
      String xCache = null;
      String text = null;
      switch (kind) {
        case "hit", "list-miss", "direct-list" -> {
          request = ("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/list\"}").getBytes(StandardCharsets.UTF_8);
          expected = McpBenchServer.answer(idJson, toolsResult);
          if (kind.equals("hit")) {
            // The very first tools/list fills the cache (unless an earlier run on this gateway did).
            xCache = listedBefore ? "HIT" : null;
            listedBefore = true;
          } else if (kind.equals("list-miss")) {
            purge();
            xCache = "MISS";
          }
        }
        default -> {
          text = "ping " + id;
          request = ("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
              + "\"arguments\":{\"text\":\"" + text + "\"}}}").getBytes(StandardCharsets.UTF_8);
          expected = McpBenchServer.answer(idJson, McpBenchServer.echoResult(text));
          xCache = gateway ? "MISS" : null;
        }
      }
      long begin = System.nanoTime();
      Reply r = conn.post(request);
      long end = System.nanoTime();
      String what = kind + " (id " + id + ")";
      if (kind.equals("hit") && xCache == null) {
        if (!"MISS".equals(r.xCache()) && !"HIT".equals(r.xCache())) {
          throw new Unexpected(what + ": X-Cache " + r.xCache() + ", expected MISS or HIT for the first tools/list");
        }
        System.out.printf(Locale.ROOT, "first tools/list: X-Cache %s in %.3f ms%n", r.xCache(), (end - begin) / 1e6);
      } else if (gateway) {
        if (!xCache.equals(r.xCache())) {
          throw new Unexpected(what + ": X-Cache " + r.xCache() + ", expected " + xCache);
        }
      } else if (r.xCache() != null) {
        throw new Unexpected(what + ": X-Cache " + r.xCache() + " from the MCP server directly");
      }
      check(r, what, null);
      if (!Arrays.equals(r.body(), expected)) {
        throw new Unexpected(what + ": answer differs from the server's for this id: "
            + abbreviate(new String(r.body(), StandardCharsets.UTF_8)));
      }
      if (!(kind.equals("hit") && xCache == null)) {
        h.record(end - begin);
        if (raw != null && measuring) {
          raw.append(kind).append(' ').append(end - begin).append('\n');
        }
      }
    }

    private void purge() throws IOException, Unexpected {
      Reply r = admin.post(new byte[0]);
      String body = new String(r.body(), StandardCharsets.UTF_8);
      if (r.status() != 200 || !body.startsWith("{\"purged\":1,")) {
        throw new Unexpected("purge: status " + r.status() + ", " + abbreviate(body)
            + " (expected exactly the tools/list entry to be dropped)");
      }
    }

    private void check(Reply r, String what, String xCache) throws Unexpected {
      if (r.status() != 200) {
        throw new Unexpected(what + ": status " + r.status() + ": " + abbreviate(new String(r.body(), StandardCharsets.UTF_8)));
      }
      if (r.contentType() == null || !r.contentType().toLowerCase(Locale.ROOT).startsWith("application/json")) {
        throw new Unexpected(what + ": Content-Type " + r.contentType() + ", expected application/json");
      }
      if (xCache != null && !xCache.equals(r.xCache())) {
        throw new Unexpected(what + ": X-Cache " + r.xCache() + ", expected " + xCache);
      }
    }
  }

  /** @return this process's CPU time so far, all threads */
  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }

  private static void report(Map<String, LatencyHistogram> results, List<String> notes) {
    System.out.println();
    System.out.println("kind         samples   p50 ms   p90 ms   p99 ms   max ms  mean ms");
    for (Map.Entry<String, LatencyHistogram> e : results.entrySet()) {
      LatencyHistogram h = e.getValue();
      System.out.printf(Locale.ROOT, "%-12s %7d %8.3f %8.3f %8.3f %8.3f %8.3f%n", e.getKey(), h.count(),
          ms(h.percentileNanos(50)), ms(h.percentileNanos(90)), ms(h.percentileNanos(99)), ms(h.maxNanos()),
          h.meanNanos() / 1e6);
    }
    for (Map.Entry<String, LatencyHistogram> e : results.entrySet()) {
      LatencyHistogram h = e.getValue();
      System.out.printf(Locale.ROOT, "RESULT kind=%s samples=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f%n",
          e.getKey(), h.count(), ms(h.percentileNanos(50)), ms(h.percentileNanos(90)), ms(h.percentileNanos(99)),
          ms(h.maxNanos()), h.meanNanos() / 1e6);
    }
    ratio(results, "miss", "hit");
    ratio(results, "list-miss", "hit");
    for (String n : notes) {
      System.out.println("NOTE " + n);
    }
  }

  private static void ratio(Map<String, LatencyHistogram> results, String over, String under) {
    LatencyHistogram a = results.get(over);
    LatencyHistogram b = results.get(under);
    if (a == null || b == null) {
      return;
    }
    System.out.printf(Locale.ROOT, "RATIO %s/%s p50=%.1f p90=%.1f p99=%.1f mean=%.1f%n", over, under,
        (double) a.percentileNanos(50) / b.percentileNanos(50), (double) a.percentileNanos(90) / b.percentileNanos(90),
        (double) a.percentileNanos(99) / b.percentileNanos(99), a.meanNanos() / b.meanNanos());
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** One answer: the parts the benchmark checks, and the body. */
  record Reply(int status, String xCache, String contentType, String sessionId, byte[] body) {}

  /**
   * One keep-alive HTTP/1.1 connection, reopened only when the server closes it. Requests are
   * POSTs with a JSON body and the headers an MCP client sends.
   */
  private static final class Connection {
    private final URI url;
    private final int timeoutMillis;
    private final String fixedHead;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    String sessionId;
    long connects;

    Connection(URI url, int timeoutMillis) {
      this.url = url;
      this.timeoutMillis = timeoutMillis;
      String target = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
      this.fixedHead = "POST " + target + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort() + "\r\n"
          + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
          + "Mcp-Protocol-Version: " + PROTOCOL_VERSION + "\r\n";
    }

    Reply post(byte[] body) throws IOException {
      if (socket == null) {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(timeoutMillis);
        s.connect(new InetSocketAddress(url.getHost(), url.getPort()), timeoutMillis);
        socket = s;
        in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
        out = new BufferedOutputStream(s.getOutputStream(), 16 * 1024);
        connects++;
      }
      String head = fixedHead + (sessionId == null ? "" : "Mcp-Session-Id: " + sessionId + "\r\n")
          + "Content-Length: " + body.length + "\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
      return read();
    }

    private Reply read() throws IOException {
      int status;
      String xCache = null;
      String type = null;
      String session = null;
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      while (true) {
        String statusLine = line();
        if (statusLine == null) {
          throw new EOFException("connection closed before the answer");
        }
        if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
          throw new ProtocolException("not a status line: " + statusLine);
        }
        status = Integer.parseInt(statusLine.substring(9, 12));
        boolean http10 = statusLine.charAt(7) == '0';
        close = http10;
        for (String l = line(); ; l = line()) {
          if (l == null) {
            throw new EOFException("connection closed inside the answer's head");
          }
          if (l.isEmpty()) {
            break;
          }
          int colon = l.indexOf(':');
          if (colon < 0) {
            throw new ProtocolException("header line without a colon: " + l);
          }
          String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
          String value = l.substring(colon + 1).trim();
          switch (name) {
            case "x-cache" -> xCache = value;
            case "content-type" -> type = value;
            case "mcp-session-id" -> session = value;
            case "content-length" -> length = Long.parseLong(value);
            case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
            case "connection" -> close = http10 ? !value.toLowerCase(Locale.ROOT).contains("keep-alive")
                : value.toLowerCase(Locale.ROOT).contains("close");
            default -> { }
          }
        }
        if (status >= 200) {
          break;
        }
      }
      byte[] body;
      if (status == 204 || status == 304) {
        body = new byte[0];
      } else if (chunked) {
        body = chunked();
      } else if (length >= 0) {
        body = in.readNBytes((int) length);
        if (body.length != length) {
          throw new EOFException("answer cut short: " + body.length + " of " + length + " bytes");
        }
      } else {
        body = in.readAllBytes();
        close = true;
      }
      if (close) {
        close();
      }
      return new Reply(status, xCache, type, session, body);
    }

    private byte[] chunked() throws IOException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String sizeLine = line();
        if (sizeLine == null) {
          throw new EOFException("connection closed before a chunk size");
        }
        int semi = sizeLine.indexOf(';');
        int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
        if (size == 0) {
          for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            // trailer fields, ignored
          }
          return body.toByteArray();
        }
        byte[] chunk = in.readNBytes(size);
        if (chunk.length != size) {
          throw new EOFException("chunk cut short");
        }
        body.writeBytes(chunk);
        if (!"".equals(line())) {
          throw new ProtocolException("chunk not followed by CRLF");
        }
      }
    }

    /** @return the next line without its CR LF, or null at the end of the stream before any byte */
    private String line() throws IOException {
      StringBuilder sb = new StringBuilder(64);
      int c;
      while ((c = in.read()) >= 0) {
        if (c == '\n') {
          int n = sb.length();
          if (n > 0 && sb.charAt(n - 1) == '\r') {
            sb.setLength(n - 1);
          }
          return sb.toString();
        }
        if (sb.length() > 16 * 1024) {
          throw new ProtocolException("head line too long");
        }
        sb.append((char) c);
      }
      return sb.isEmpty() ? null : sb.toString();
    }

    void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
      socket = null;
      in = null;
      out = null;
    }
  }
}
