package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Connector;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends a webhook to its route through the gateway's current routes, within a time limit: the
 * request runs on a virtual thread of its own and is interrupted (its connection closed) when the
 * limit passes, so a service that stalls never holds a delivery slot for longer.
 */
final class Sender implements AutoCloseable {
  /** Our id of the webhook, on every attempt. */
  static final String ID_HEADER = "X-Portal-Webhook-Id";
  /** The attempt's number, 1 for the first. */
  static final String ATTEMPT_HEADER = "X-Portal-Webhook-Attempt";
  /** Standard Webhooks' id header: set to our id unless the sender set its own. */
  static final String STANDARD_ID_HEADER = "webhook-id";
  /** The most of an answer's body read in the background; the rest is dropped with the connection. */
  private static final int MAX_ANSWER_BYTES = 64 * 1024;

  private final Connector routes;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * What an attempt got.
   *
   * @param status the answer's status, or null when none came
   * @param retryAfter the answer's {@code Retry-After}, or null
   * @param error what went wrong when no answer came, or null
   * @param timedOut whether the time limit passed with the request possibly sent
   */
  record Outcome(Integer status, String retryAfter, String error, boolean timedOut) {}

  Sender(Connector routes) {
    this.routes = routes;
  }

  /** @return the request of one attempt: the original, byte for byte, plus the id and attempt headers */
  static Request request(String id, int attempt, String route, String method, String path, String query,
      Headers headers, byte[] body) {
    Headers.Builder h = headers.toBuilder();
    if (h.first(STANDARD_ID_HEADER) == null) {
      h.add(STANDARD_ID_HEADER, id);
    }
    h.set(ID_HEADER, id);
    h.set(ATTEMPT_HEADER, Integer.toString(attempt));
    return Request.builder().method(method).route(route).upstreamPath(path).rawQuery(query).headers(h.build())
        .body(Body.of(body)).requestId(id + "-" + attempt).build();
  }

  /**
   * Sends and waits for the answer's head. The answer's body is the caller's to read or discard.
   *
   * @throws IOException when no answer came (the route is unreachable, the lease offline)
   * @throws TimeoutException when the limit passed first; the request may have reached the service
   */
  Response send(Request request, Duration limit) throws IOException, TimeoutException {
    return within(limit, () -> routes.send(request));
  }

  /** Sends, reads a bounded part of the answer's body and drops the rest, all within the limit. */
  Outcome attempt(Request request, Duration limit) {
    try {
      return within(limit, () -> {
        Response response = routes.send(request);
        try (InputStream in = response.body().open()) {
          in.readNBytes(MAX_ANSWER_BYTES);
        } catch (IOException | IllegalStateException ignored) {
          // The status decides; a body cut short does not change it.
        }
        return new Outcome(response.status(), response.headers().first("Retry-After"), null, false);
      });
    } catch (TimeoutException e) {
      return new Outcome(null, null, "no answer within " + limit.toMillis() + " ms", true);
    } catch (IOException e) {
      return new Outcome(null, null, describe(e), false);
    }
  }

  private <T> T within(Duration limit, java.util.concurrent.Callable<T> call) throws IOException, TimeoutException {
    Future<T> future = threads.submit(call);
    try {
      return future.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true); // interrupts the virtual thread, which closes its connection
      throw e;
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while sending the webhook", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
    }
  }

  private static String describe(IOException e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
