package dev.portalgateway.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A small MCP server for the cache benchmark: JSON-RPC 2.0 over the Streamable HTTP transport,
 * POST to any path, answered with {@code application/json} (never an event stream).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.portalgateway.bench.McpBenchServer [PORT] \
 *     [--provider robaho|jdk] [--max-lifetime 1h]
 * </pre>
 *
 * <p>It answers {@code initialize} (with an {@code Mcp-Session-Id}), {@code ping},
 * {@code tools/list} with eleven tools and their input schemas (a 5.7 KB result, {@link #toolsListResult()}),
 * {@code tools/call} of {@code echo} (the text argument back, a small answer; cache-mcp does not
 * cache tool calls unless told to), notifications with 202, and anything else with a JSON-RPC
 * error. Each answer is written as {@code {"jsonrpc":"2.0","id":ID,"result":RESULT}}, which is
 * also how cache-mcp writes a cached one, so a client can check both byte for byte.
 *
 * <p>Port 0 (the default) takes a free one. It prints {@code LISTENING <port>} once it accepts
 * connections, and exits by itself after {@code --max-lifetime} (default 1h).
 */
public final class McpBenchServer {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The tools, as a client would see them in an IDE: names, descriptions, JSON schemas. */
  private static final String TOOLS = """
      {"tools":[
       {"name":"echo","description":"Returns the given text unchanged. Useful to check that the server is reachable and answering.",
        "inputSchema":{"type":"object","properties":{"text":{"type":"string","description":"The text to return.","maxLength":4096}},
         "required":["text"],"additionalProperties":false}},
       {"name":"read_file","description":"Reads a text file from the project workspace and returns its content. Paths are relative to the workspace root; reading outside it is refused.",
        "inputSchema":{"type":"object","properties":{
          "path":{"type":"string","description":"Path of the file, relative to the workspace root."},
          "encoding":{"type":"string","enum":["utf-8","latin-1","base64"],"default":"utf-8","description":"How to decode the file."},
          "offset":{"type":"integer","minimum":0,"description":"First line to return, counted from 0."},
          "limit":{"type":"integer","minimum":1,"maximum":10000,"description":"Most lines to return."}},
         "required":["path"],"additionalProperties":false}},
       {"name":"write_file","description":"Creates or replaces a text file in the project workspace. Parent directories are created as needed.",
        "inputSchema":{"type":"object","properties":{
          "path":{"type":"string","description":"Path of the file, relative to the workspace root."},
          "content":{"type":"string","description":"The whole new content of the file."},
          "create_only":{"type":"boolean","default":false,"description":"Fail instead of replacing an existing file."}},
         "required":["path","content"],"additionalProperties":false}},
       {"name":"list_directory","description":"Lists the entries of a directory in the workspace with their type and size.",
        "inputSchema":{"type":"object","properties":{
          "path":{"type":"string","description":"Directory path, relative to the workspace root.","default":"."},
          "recursive":{"type":"boolean","default":false},
          "include_hidden":{"type":"boolean","default":false,"description":"Also list names that start with a dot."}},
         "additionalProperties":false}},
       {"name":"search_files","description":"Searches the workspace for files whose content matches a regular expression and returns matching lines with their line numbers.",
        "inputSchema":{"type":"object","properties":{
          "pattern":{"type":"string","description":"A regular expression (RE2 syntax)."},
          "glob":{"type":"string","description":"Only search files whose path matches this glob, such as src/**/*.java."},
          "case_sensitive":{"type":"boolean","default":true},
          "max_results":{"type":"integer","minimum":1,"maximum":1000,"default":100}},
         "required":["pattern"],"additionalProperties":false}},
       {"name":"run_sql_query","description":"Runs a read-only SQL query against the analytics database and returns at most max_rows rows as JSON objects.",
        "inputSchema":{"type":"object","properties":{
          "query":{"type":"string","description":"One SELECT statement. Statements that modify data are refused."},
          "parameters":{"type":"array","items":{"type":["string","number","boolean","null"]},"description":"Values for the query's ? placeholders, in order."},
          "max_rows":{"type":"integer","minimum":1,"maximum":5000,"default":200},
          "timeout_ms":{"type":"integer","minimum":100,"maximum":60000,"default":10000}},
         "required":["query"],"additionalProperties":false}},
       {"name":"http_fetch","description":"Fetches a URL over HTTP(S) and returns the status, selected headers and the body as text (HTML converted to Markdown).",
        "inputSchema":{"type":"object","properties":{
          "url":{"type":"string","format":"uri","description":"An http or https URL."},
          "method":{"type":"string","enum":["GET","HEAD"],"default":"GET"},
          "headers":{"type":"object","additionalProperties":{"type":"string"},"description":"Extra request headers."},
          "max_bytes":{"type":"integer","minimum":1,"maximum":5242880,"default":1048576}},
         "required":["url"],"additionalProperties":false}},
       {"name":"get_weather","description":"Returns the current weather and a forecast for a place.",
        "inputSchema":{"type":"object","properties":{
          "location":{"type":"string","description":"A city name, optionally with a country code, such as Lyon, FR."},
          "units":{"type":"string","enum":["metric","imperial"],"default":"metric"},
          "days":{"type":"integer","minimum":0,"maximum":7,"default":1,"description":"Days of forecast after today."}},
         "required":["location"],"additionalProperties":false}},
       {"name":"create_issue","description":"Opens an issue in the project's tracker and returns its number and URL.",
        "inputSchema":{"type":"object","properties":{
          "title":{"type":"string","minLength":1,"maxLength":256},
          "body":{"type":"string","description":"Markdown."},
          "labels":{"type":"array","items":{"type":"string"},"uniqueItems":true},
          "assignees":{"type":"array","items":{"type":"string"},"maxItems":10},
          "priority":{"type":"string","enum":["low","normal","high","urgent"],"default":"normal"}},
         "required":["title"],"additionalProperties":false}},
       {"name":"send_message","description":"Posts a message to a chat channel on behalf of the user.",
        "inputSchema":{"type":"object","properties":{
          "channel":{"type":"string","description":"Channel name without the leading #, or a user id for a direct message."},
          "text":{"type":"string","minLength":1,"maxLength":40000},
          "thread_id":{"type":"string","description":"Reply in this thread instead of the channel."}},
         "required":["channel","text"],"additionalProperties":false}},
       {"name":"git_log","description":"Returns recent commits of the workspace repository: hash, author, date and subject.",
        "inputSchema":{"type":"object","properties":{
          "ref":{"type":"string","default":"HEAD","description":"Branch, tag or commit to start from."},
          "path":{"type":"string","description":"Only commits that touch this path."},
          "max_count":{"type":"integer","minimum":1,"maximum":500,"default":20},
          "since":{"type":"string","format":"date-time"}},
         "additionalProperties":false}}
      ]}""";

  /** {@link #TOOLS} without white space, as a server would send it. */
  private static final byte[] TOOLS_RESULT = compact(TOOLS);

  private McpBenchServer() {}

  /** @return the {@code result} of {@code tools/list}, exactly as this server writes it */
  static byte[] toolsListResult() {
    return TOOLS_RESULT.clone();
  }

  /** @return the {@code result} of {@code tools/call} of {@code echo} with {@code text}, as written */
  static byte[] echoResult(String text) {
    try {
      return ("{\"content\":[{\"type\":\"text\",\"text\":" + JSON.writeValueAsString(text) + "}],\"isError\":false}")
          .getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** @return {@code {"jsonrpc":"2.0","id":ID,"result":RESULT}} */
  static byte[] answer(String idJson, byte[] result) {
    byte[] head = ("{\"jsonrpc\":\"2.0\",\"id\":" + idJson + ",\"result\":").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + result.length + 1];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(result, 0, out, head.length, result.length);
    out[out.length - 1] = '}';
    return out;
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    int port = 0;
    String provider = "robaho";
    long lifetimeMillis = 3600_000;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        port = Integer.parseInt(a);
        continue;
      }
      if (i + 1 >= args.length) {
        System.err.println("McpBenchServer: " + a + " needs a value");
        System.exit(2);
      }
      switch (a) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--provider" -> provider = args[++i];
        case "--max-lifetime" -> lifetimeMillis = LoadGenerator.parseDuration(args[++i]).toMillis();
        default -> {
          System.err.println("McpBenchServer: unknown option " + a);
          System.exit(2);
        }
      }
    }
    // As BenchBackend: without TCP_NODELAY a response written as head then body can wait ~40 ms
    // for the client's delayed ACK. Set before either server's configuration class loads.
    System.setProperty("robaho.net.httpserver.nodelay", "true");
    System.setProperty("sun.net.httpserver.nodelay", "true");

    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    HttpServer server = switch (provider) {
      case "robaho" -> new robaho.net.httpserver.DefaultHttpServerProvider().createHttpServer(address, 1024);
      case "jdk" -> HttpServer.create(address, 1024);
      default -> throw new IllegalArgumentException("--provider must be robaho or jdk");
    };
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", exchange -> {
      try (exchange) {
        handle(exchange);
      } catch (IOException | RuntimeException e) {
        System.err.println("McpBenchServer: " + e);
        throw e;
      }
    });
    server.start();
    System.out.println("LISTENING " + server.getAddress().getPort());
    System.out.println("McpBenchServer on 127.0.0.1:" + server.getAddress().getPort() + " (" + provider
        + "), tools/list result " + TOOLS_RESULT.length + " bytes");
    System.out.flush();

    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(0);
      stop.countDown();
    }, "mcp-bench-server-stop"));
    if (!stop.await(lifetimeMillis, TimeUnit.MILLISECONDS)) {
      System.out.println("McpBenchServer: --max-lifetime reached, stopping");
      server.stop(0);
      System.exit(0);
    }
  }

  private static void handle(HttpExchange exchange) throws IOException {
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    if (!exchange.getRequestMethod().equals("POST")) {
      // This server offers no event stream for GET (the transport allows answering 405).
      exchange.getResponseHeaders().set("Allow", "POST");
      exchange.sendResponseHeaders(405, -1);
      return;
    }
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (IOException e) {
      request = null;
    }
    if (request == null || !request.isObject() || !request.path("method").isTextual()) {
      send(exchange, 400, error("null", -32700, "Parse error"));
      return;
    }
    JsonNode id = request.get("id");
    String method = request.get("method").asText();
    if (id == null || id.isNull()) {
      exchange.sendResponseHeaders(202, -1); // a notification, such as notifications/initialized
      return;
    }
    String idJson = id.toString();
    JsonNode params = request.path("params");
    switch (method) {
      case "initialize" -> {
        exchange.getResponseHeaders().set("Mcp-Session-Id", UUID.randomUUID().toString());
        send(exchange, 200, answer(idJson, ("{\"protocolVersion\":"
            + JSON.writeValueAsString(params.path("protocolVersion").asText("2025-06-18"))
            + ",\"capabilities\":{\"tools\":{\"listChanged\":true}},"
            + "\"serverInfo\":{\"name\":\"mcp-bench-server\",\"version\":\"1.0\"}}").getBytes(StandardCharsets.UTF_8)));
      }
      case "ping" -> send(exchange, 200, answer(idJson, "{}".getBytes(StandardCharsets.UTF_8)));
      case "tools/list" -> send(exchange, 200, answer(idJson, TOOLS_RESULT));
      case "tools/call" -> {
        if (params.path("name").asText().equals("echo")) {
          send(exchange, 200, answer(idJson, echoResult(params.path("arguments").path("text").asText(""))));
        } else {
          send(exchange, 200, error(idJson, -32602, "Unknown tool: " + params.path("name").asText()));
        }
      }
      default -> send(exchange, 200, error(idJson, -32601, "Method not found: " + method));
    }
  }

  private static byte[] error(String idJson, int code, String message) throws IOException {
    return ("{\"jsonrpc\":\"2.0\",\"id\":" + idJson + ",\"error\":{\"code\":" + code + ",\"message\":"
        + JSON.writeValueAsString(message) + "}}").getBytes(StandardCharsets.UTF_8);
  }

  private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static byte[] compact(String json) {
    try {
      return JSON.writeValueAsBytes(JSON.readTree(json));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
