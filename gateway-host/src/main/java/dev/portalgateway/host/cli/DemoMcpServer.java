package dev.portalgateway.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.portalgateway.host.server.HttpServerFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * The service behind the demo's tunnel: a small MCP server over Streamable HTTP at {@code /mcp}
 * (JSON-RPC {@code initialize}, {@code tools/list}, {@code tools/call} with {@code echo} and
 * {@code time}; {@code time} answers as a server-sent event stream), a greeting at {@code /}, and
 * a five-event stream at {@code /events}. Just enough MCP for a client to talk to through the relay.
 */
final class DemoMcpServer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROTOCOL_VERSION = "2025-03-26";

  private DemoMcpServer() {}

  static HttpServer start() throws IOException {
    return start(new InetSocketAddress("127.0.0.1", 0));
  }

  /** Starts the service on {@code listen}, for {@code demo-service}. */
  static HttpServer start(InetSocketAddress listen) throws IOException {
    HttpServer server = HttpServerFactory.create("jdk", listen, Duration.ofSeconds(60));
    server.createContext("/mcp", exchange -> {
      try (exchange) {
        mcp(exchange);
      }
    });
    server.createContext("/events", exchange -> {
      try (exchange) {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        OutputStream body = exchange.getResponseBody();
        for (int i = 1; i <= 5; i++) {
          body.write(("id: " + i + "\ndata: event " + i + " of 5 at " + Instant.now() + "\n\n").getBytes(StandardCharsets.UTF_8));
          body.flush();
          Thread.sleep(1000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.createContext("/", exchange -> {
      try (exchange) {
        send(exchange, 200, "text/plain; charset=utf-8", "Hello from a service behind a Portal relay.\n"
            + "This answer crossed the relay end-to-end encrypted; the relay saw only ciphertext.\n"
            + "You asked for " + exchange.getRequestURI() + "\n");
      }
    });
    server.start();
    return server;
  }

  private static void mcp(HttpExchange exchange) throws IOException {
    if (!"POST".equals(exchange.getRequestMethod())) {
      exchange.getResponseHeaders().set("Allow", "POST");
      send(exchange, 405, "text/plain", "POST JSON-RPC messages to /mcp\n");
      return;
    }
    JsonNode request;
    try {
      request = JSON.readTree(exchange.getRequestBody());
    } catch (IOException e) {
      send(exchange, 400, "application/json", error(null, -32700, "parse error"));
      return;
    }
    JsonNode id = request.get("id");
    String method = request.path("method").asText();
    if (id == null) {
      exchange.sendResponseHeaders(202, -1); // a notification, such as notifications/initialized
      return;
    }
    switch (method) {
      case "initialize" -> {
        exchange.getResponseHeaders().set("Mcp-Session-Id", UUID.randomUUID().toString());
        ObjectNode result = JSON.createObjectNode();
        result.put("protocolVersion", PROTOCOL_VERSION);
        result.putObject("capabilities").putObject("tools");
        result.putObject("serverInfo").put("name", "portal-gateway-demo").put("version", Main.version());
        send(exchange, 200, "application/json", ok(id, result));
      }
      case "tools/list" -> {
        ObjectNode result = JSON.createObjectNode();
        var tools = result.putArray("tools");
        ObjectNode echo = tools.addObject().put("name", "echo").put("description", "Returns the text it is given.");
        ObjectNode schema = echo.putObject("inputSchema").put("type", "object");
        schema.putObject("properties").putObject("text").put("type", "string");
        schema.putArray("required").add("text");
        tools.addObject().put("name", "time").put("description", "Tells the service's time, as a streamed answer.")
            .putObject("inputSchema").put("type", "object");
        send(exchange, 200, "application/json", ok(id, result));
      }
      case "tools/call" -> {
        String tool = request.path("params").path("name").asText();
        if (tool.equals("echo")) {
          send(exchange, 200, "application/json",
              ok(id, textResult(request.path("params").path("arguments").path("text").asText())));
        } else if (tool.equals("time")) {
          // Streamable HTTP lets a server answer a POST with an event stream: here, one event.
          exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
          exchange.sendResponseHeaders(200, 0);
          OutputStream out = exchange.getResponseBody();
          out.write(("event: message\ndata: " + ok(id, textResult("It is " + Instant.now() + " here.")) + "\n\n")
              .getBytes(StandardCharsets.UTF_8));
          out.flush();
        } else {
          send(exchange, 200, "application/json", error(id, -32602, "unknown tool '" + tool + "'"));
        }
      }
      case "ping" -> send(exchange, 200, "application/json", ok(id, JSON.createObjectNode()));
      default -> send(exchange, 200, "application/json", error(id, -32601, "method not found: " + method));
    }
  }

  private static ObjectNode textResult(String text) {
    ObjectNode result = JSON.createObjectNode();
    result.putArray("content").addObject().put("type", "text").put("text", text);
    return result;
  }

  private static String ok(JsonNode id, JsonNode result) throws IOException {
    ObjectNode response = JSON.createObjectNode().put("jsonrpc", "2.0");
    response.set("id", id);
    response.set("result", result);
    return JSON.writeValueAsString(response);
  }

  private static String error(JsonNode id, int code, String message) throws IOException {
    ObjectNode response = JSON.createObjectNode().put("jsonrpc", "2.0");
    response.set("id", id);
    response.putObject("error").put("code", code).put("message", message);
    return JSON.writeValueAsString(response);
  }

  private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
  }
}
