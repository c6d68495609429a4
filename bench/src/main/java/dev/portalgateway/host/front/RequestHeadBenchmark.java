package dev.portalgateway.host.front;

import dev.portalgateway.host.http1.ConnectionInput;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The front server's request head parser ({@link RequestHead#read}) on the head of the load
 * generator's request, with and without an {@code Authorization: Bearer} field holding an
 * 850-byte RS256 JWT, as MCP clients and the sso-oauth benchmark send: what carrying a token costs
 * the gateway before any plugin sees it. The bytes come from memory, so socket reads are not in
 * it. In this package because {@link RequestHead} is package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestHeadBenchmark {
  /** The token's length: an RS256 JWT with a dozen claims, as BenchIssuer and most IdPs issue. */
  private static final int TOKEN_LENGTH = 850;

  @Param({"none", "bearer-jwt"})
  public String authorization;

  private byte[] head;
  private ByteArrayInputStream bytes;
  /** One per connection in the front server, so one for the whole run here. */
  private ConnectionInput in;

  @Setup
  public void setUp() {
    StringBuilder token = new StringBuilder("eyJraWQiOiJiZW5jaCIsImFsZyI6IlJTMjU2In0.");
    while (token.length() < TOKEN_LENGTH) {
      token.append("eyJzdWIiOiJ1c2VyLTQyIiwiYXVkIjoiYmVuY2gtZ2F0ZXdheSJ9");
    }
    token.setLength(TOKEN_LENGTH);
    String request = "GET /peer/backend/x HTTP/1.1\r\n"
        + "Host: 127.0.0.1:8080\r\n"
        + "User-Agent: portal-gateway-bench\r\n"
        + "Accept: */*\r\n"
        + (authorization.equals("none") ? "" : "Authorization: Bearer " + token + "\r\n")
        + "\r\n";
    head = request.getBytes(StandardCharsets.ISO_8859_1);
    bytes = new ByteArrayInputStream(head, 1, head.length - 1); // the first byte is the caller's
    in = new ConnectionInput(bytes, 8 * 1024);
  }

  @Benchmark
  public RequestHead read() throws IOException {
    bytes.reset(); // the head was read to its end, so the connection's buffer is empty again
    return RequestHead.read(in, 64 * 1024, head[0] & 0xFF);
  }
}
