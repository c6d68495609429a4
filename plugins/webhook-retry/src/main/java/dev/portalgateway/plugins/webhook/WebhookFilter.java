package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.BodyTooLargeException;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import dev.portalgateway.plugins.webhook.WebhookStore.AttemptRecord;
import dev.portalgateway.plugins.webhook.WebhookStore.NewWebhook;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * A webhook route: reads the body (bounded), checks its signature if configured, and either
 * stores it and answers {@code 202} once it is on the disk ({@code store-and-forward}), or tries
 * the service first and stores it only when the service is away ({@code try-then-queue}).
 */
final class WebhookFilter implements Filter {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Fields never stored: they belong to one hop, or the gateway recomputes them. */
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
      "transfer-encoding", "upgrade", "host", "content-length", "expect");
  /** Statuses after which try-then-queue queues the webhook rather than passing the answer on. */
  private static final Set<Integer> QUEUE_ON = Set.of(429, 502, 503, 504);
  private static final int MAX_DELIVERY_ID_LENGTH = 256;

  private final WebhookSettings settings;
  private final DeliveryLoop loop;
  private final Signatures signatures;
  private final DeliveryPolicy policy;
  private final Clock clock;

  WebhookFilter(WebhookSettings settings, DeliveryLoop loop, Clock clock) {
    this.settings = settings;
    this.loop = loop;
    this.clock = clock;
    this.policy = settings.policy(); // once: every webhook of this configuration shares it
    this.signatures = settings.signature() == null ? null : new Signatures(settings.signature());
  }

  @Override
  public Response handle(Request request, Chain chain) throws IOException {
    if (!settings.methods().contains(request.method())) {
      return chain.proceed(request); // a GET verification challenge, a HEAD: the service answers itself
    }
    Instant arrived = clock.instant();
    String route = request.route();
    loop.route(route, settings);
    Telemetry telemetry = loop.telemetry();
    byte[] body;
    try {
      body = request.body().readAll(settings.maxBody());
    } catch (BodyTooLargeException e) {
      telemetry.received(route, "too_large");
      throw new ProblemException(Problem.of(413, "webhook-too-large", "Payload Too Large",
          "The webhook's body is larger than " + settings.maxBody() + " bytes.",
          "Raise plugins.webhook-retry.max_body for this route if such webhooks are expected."));
    }
    if (signatures != null) {
      String problem = signatures.problem(request.headers(), body, arrived);
      if (problem != null) {
        telemetry.received(route, "bad_signature");
        throw new ProblemException(Problem.of(401, "webhook-signature", "Unauthorized",
            "The webhook's " + settings.signature().scheme() + " signature was refused: " + problem + ".",
            "Check that the sender and plugins.webhook-retry.signature.secret use the same secret."));
      }
    }
    String id = "wh_" + HexFormat.of().formatHex(randomBytes());
    Headers headers = storedHeaders(request.headers());
    String deliveryId = deliveryId(request.headers());
    AttemptRecord firstTry = null;
    Instant nextAt = arrived;
    if (settings.mode().equals(WebhookSettings.TRY_THEN_QUEUE)) {
      Request first = Sender.request(id, 1, route, request.method(), request.upstreamPath(), request.rawQuery(), headers,
          body).toBuilder().clientAddress(request.clientAddress()).build();
      Response answer;
      try {
        answer = loop.sender().send(first, settings.tryTimeout());
        if (!QUEUE_ON.contains(answer.status())) {
          telemetry.received(route, "passed");
          return answer.withHeader(Sender.ID_HEADER, id);
        }
        answer.body().discard();
        firstTry = attempt(arrived, answer.status(), "HTTP " + answer.status(), "queued");
        Instant asked = DeliveryLoop.retryAfter(answer.headers().first("Retry-After"), clock.instant());
        nextAt = later(clock.instant().plusMillis(policy.backoffMillis(1)), asked);
      } catch (TimeoutException e) {
        firstTry = attempt(arrived, null, "no answer within " + settings.tryTimeout().toMillis() + " ms",
            "queued-possibly-delivered");
        nextAt = clock.instant().plusMillis(policy.backoffMillis(1));
      } catch (IOException e) {
        firstTry = attempt(arrived, null, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), "queued");
        nextAt = clock.instant().plusMillis(policy.backoffMillis(1));
      }
    }
    WebhookStore.Accepted accepted;
    try {
      accepted = loop.store().accept(new NewWebhook(id, route, request.method(), request.upstreamPath(),
          request.rawQuery(), headers, body, arrived, policy, deliveryId,
          deliveryId == null ? null : arrived.plus(settings.dedupeWindow()), firstTry, nextAt));
    } catch (StoreException e) {
      telemetry.received(route, "store_failed");
      throw new ProblemException(Problem.of(503, "webhook-store-unavailable", "Service Unavailable",
          "The webhook could not be stored, so it was not accepted; send it again.",
          "The gateway's log says why (disk full, data_dir not writable)."), Headers.of("Retry-After", "5"), e);
    }
    telemetry.accepted(Duration.between(arrived, clock.instant()));
    telemetry.received(route, accepted.duplicate() ? "duplicate" : "queued");
    if (!accepted.duplicate()) {
      loop.arrived();
    }
    String json = "{\"id\":\"" + accepted.id() + "\",\"status\":\"" + (accepted.duplicate() ? "duplicate" : "queued") + "\"}";
    return Response.of(202, Headers.of("Content-Type", "application/json", "Cache-Control", "no-store",
        Sender.ID_HEADER, accepted.id()), Body.of(json));
  }

  private static Instant later(Instant a, Instant b) {
    return b != null && b.isAfter(a) ? b : a;
  }

  private AttemptRecord attempt(Instant started, Integer status, String error, String outcome) {
    return new AttemptRecord(1, started, Duration.between(started, clock.instant()).toMillis(), status, error, outcome);
  }

  private String deliveryId(Headers headers) {
    if (settings.dedupeHeader() == null) {
      return null;
    }
    String value = headers.first(settings.dedupeHeader());
    if (value == null || value.isBlank()) {
      return null;
    }
    value = value.trim();
    return value.length() > MAX_DELIVERY_ID_LENGTH ? value.substring(0, MAX_DELIVERY_ID_LENGTH) : value;
  }

  private static Headers storedHeaders(Headers in) {
    Set<String> named = new java.util.HashSet<>();
    for (String c : in.all("Connection")) {
      for (String token : c.split(",")) {
        named.add(token.trim().toLowerCase(Locale.ROOT));
      }
    }
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < in.size(); i++) {
      String name = in.name(i).toLowerCase(Locale.ROOT);
      if (!HOP_BY_HOP.contains(name) && !named.contains(name) && !name.equalsIgnoreCase(Sender.ID_HEADER)
          && !name.equalsIgnoreCase(Sender.ATTEMPT_HEADER)) {
        b.add(in.name(i), in.value(i));
      }
    }
    return b.build();
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return b;
  }
}
