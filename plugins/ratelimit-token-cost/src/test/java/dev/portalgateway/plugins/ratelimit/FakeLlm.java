package dev.portalgateway.plugins.ratelimit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.portalgateway.host.testing.TestBackend;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fake LLM service on loopback that answers the way OpenAI's Chat Completions and Anthropic's
 * Messages APIs do, JSON or streamed, reporting a fixed usage: 100 input and 50 output tokens.
 */
public final class FakeLlm implements AutoCloseable {
  static final long INPUT = 100;
  static final long OUTPUT = 50;
  private static final ObjectMapper JSON = new ObjectMapper();

  final TestBackend backend;
  /** The last request body the service received. */
  public final AtomicReference<String> lastBody = new AtomicReference<>();
  /** When set, a stream waits after its first event until this opens. */
  public volatile CountDownLatch holdAfterFirstEvent;
  /**
   * When set, an OpenAI stream sends a few more content events after the first and then waits
   * until this opens before it sends its usage: a service that goes quiet mid-stream.
   */
  public volatile CountDownLatch stallBeforeUsage;

  public FakeLlm() throws IOException {
    backend = new TestBackend()
        .route("/v1/chat/completions", this::openAi)
        .route("/v1/messages", this::anthropic)
        .route("/plain", ex -> TestBackend.respond(ex, 200, "text/plain", "no usage here"));
  }

  public String url() {
    return backend.url();
  }

  private JsonNode read(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    lastBody.set(body);
    return JSON.readTree(body);
  }

  private void openAi(HttpExchange ex) throws IOException {
    JsonNode req = read(ex);
    String model = req.path("model").asText("gpt-4o");
    if (!req.path("stream").asBoolean(false)) {
      TestBackend.respond(ex, 200, "application/json", """
          {"id":"chatcmpl-1","object":"chat.completion","model":"%s","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}"""
          .formatted(model, INPUT, OUTPUT, INPUT + OUTPUT));
      return;
    }
    boolean usage = req.path("stream_options").path("include_usage").asBoolean(false);
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    event(out, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
        + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one\"}}]}\n\n");
    hold();
    CountDownLatch stall = stallBeforeUsage;
    if (stall != null) {
      try {
        for (int i = 0; i < 20; i++) { // enough writes for the gateway to notice a client that left
          event(out, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
              + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"more\"}}]}\n\n");
          Thread.sleep(20);
        }
        stall.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        return; // the gateway closed the connection: the stall is over
      }
    }
    event(out, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
        + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"two\"},\"finish_reason\":\"stop\"}]}\n\n");
    if (usage) {
      event(out, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
          + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + INPUT + ",\"completion_tokens\":" + OUTPUT
          + ",\"total_tokens\":" + (INPUT + OUTPUT) + "}}\n\n");
    }
    event(out, "data: [DONE]\n\n");
    out.close();
  }

  private void anthropic(HttpExchange ex) throws IOException {
    JsonNode req = read(ex);
    String model = req.path("model").asText("claude-sonnet");
    if (!req.path("stream").asBoolean(false)) {
      TestBackend.respond(ex, 200, "application/json", """
          {"id":"msg_1","type":"message","role":"assistant","model":"%s","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":%d,"output_tokens":%d}}"""
          .formatted(model, INPUT, OUTPUT));
      return;
    }
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    event(out, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
        + "\"role\":\"assistant\",\"model\":\"" + model + "\",\"content\":[],\"usage\":{\"input_tokens\":" + INPUT
        + ",\"output_tokens\":1}}}\n\n");
    hold();
    event(out, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        + "\"text_delta\",\"text\":\"hi\"}}\n\n");
    event(out, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
        + "\"usage\":{\"output_tokens\":" + OUTPUT + "}}\n\n");
    event(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    out.close();
  }

  private void hold() {
    CountDownLatch latch = holdAfterFirstEvent;
    if (latch != null) {
      try {
        latch.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void event(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Override
  public void close() {
    backend.close();
  }
}
