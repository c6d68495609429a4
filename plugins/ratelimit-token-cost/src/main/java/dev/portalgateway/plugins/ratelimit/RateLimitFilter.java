package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;

/**
 * Request-rate limits, then token and cost budgets, then the request; the response's usage
 * settles the budgets as it streams past. Every limited route answers with {@code RateLimit-*}
 * headers; refusals are 429 problem documents with {@code Retry-After}.
 */
final class RateLimitFilter implements Filter {
  private final RequestLimiter limiter;
  private final BudgetLedger ledger;
  private final Pricing pricing;
  private final RateLimitSettings settings;
  private final SharedStore.Lease store;
  private final Telemetry telemetry;

  RateLimitFilter(RateLimitSettings settings, SharedStore.Lease store, Telemetry telemetry) {
    this.settings = settings;
    this.limiter = new RequestLimiter(settings);
    this.ledger = new BudgetLedger(settings);
    this.pricing = Pricing.of(settings.pricing(), "pricing");
    this.store = store;
    this.telemetry = telemetry;
  }

  @Override
  public void close() {
    store.release();
  }

  @Override
  public Response handle(Request request, Chain chain) throws IOException {
    String lease = request.route();
    String clientBucket = Callers.clientBucket(request.clientAddress());
    String principal = Callers.principal(request);
    LimitStore counters = store.get();

    RequestLimiter.Decision decision = null;
    if (!limiter.isEmpty()) {
      try {
        decision = limiter.check(counters, principal, clientBucket, lease);
      } catch (StoreUnavailableException e) {
        Response refusal = storeFailed("take", e);
        if (refusal != null) {
          return refusal;
        }
      }
      if (decision != null && !decision.allowed()) {
        telemetry.limited(decision.refusedBy());
        BucketResult b = decision.tightest();
        return Problem.of(429, "rate-limited", "Too Many Requests",
            "Too many requests " + describe(decision.refusedBy()) + ".",
            "Retry after the time in Retry-After; the RateLimit-* headers show the allowance.")
            .toResponse(rateHeaders(b).toBuilder().set("Retry-After", Long.toString(seconds(b.retryAfter()))).build());
      }
    }

    if (!ledger.applies(principal, lease)) {
      Response response = chain.proceed(request);
      return decision == null || decision.tightest() == null ? response : withRateHeaders(response, decision.tightest());
    }

    AiRequestInspector.Inspection inspection = inspect(request);
    byte[] outgoing = inspection.rewrittenBody() != null ? inspection.rewrittenBody() : inspection.bufferedBody();
    Request forwarded = outgoing == null ? request : request.withBody(Body.of(outgoing));
    Pricing.Price price = pricing.of(inspection.model());
    // Only an AI call reserves an estimate; anything else reserves a single token, enough to be
    // refused once the budget is spent, and is settled to what its response reports.
    boolean aiCall = inspection.api() == AiRequestInspector.Api.OPENAI_COMPLETIONS
        || inspection.api() == AiRequestInspector.Api.ANTHROPIC_MESSAGES
        || (inspection.api() == AiRequestInspector.Api.OTHER_JSON && inspection.model() != null);
    long inputEstimate = aiCall ? Math.max(0, inspection.bodyLength()) / 4 : 0; // about 4 bytes of JSON a token
    long outputEstimate = !aiCall ? 0
        : inspection.maxTokens() != null ? inspection.maxTokens() : settings.defaultMaxTokens();
    BudgetLedger.Admission admission;
    try {
      admission = ledger.reserve(counters, principal, lease, inputEstimate + outputEstimate,
          price.micros(inputEstimate, outputEstimate), price.isFree());
    } catch (StoreUnavailableException e) {
      Response refusal = storeFailed("reserve", e);
      if (refusal != null) {
        return refusal;
      }
      admission = null;
    }
    if (admission != null && !admission.allowed()) {
      BudgetLedger.Reservation r = admission.refused();
      telemetry.limited("budget_" + r.window().unit());
      BudgetResult result = admission.refusedResult();
      return Problem.of(429, "budget-exhausted", "Too Many Requests",
          "The " + (r.window().unit().equals("cost") ? "cost" : "token") + " budget per " + r.window().name()
              + (r.key().startsWith("budget:lease:") ? " of '" + lease + "'" : " of this caller")
              + " is used up (" + amount(r.window().unit(), result.used()) + " of " + amount(r.window().unit(), result.limit())
              + ").",
          "The budget starts again when the window ends; see Retry-After.")
          .toResponse(Headers.of("Retry-After", Long.toString(seconds(result.reset()))));
    }

    Response response;
    try {
      response = chain.proceed(forwarded);
    } catch (IOException | RuntimeException e) {
      if (admission != null) {
        ledger.release(counters, admission); // the upstream was never charged for it
      }
      throw e;
    }
    if (admission != null) {
      BudgetLedger.Admission settled = admission;
      String contentType = response.headers().first("Content-Type");
      UsageMeter.Drain drain = new UsageMeter.Drain(settings.abandonedStreamTimeout(), UsageMeter.DRAIN_MAX_BYTES);
      response = response.withBody(response.body().map(in -> UsageMeter.wrap(in, contentType,
          inspection.usageInjected(), inspection.model(), drain,
          (usage, complete) -> settle(counters, settled, lease, usage, complete))));
    }
    return decision == null || decision.tightest() == null ? response : withRateHeaders(response, decision.tightest());
  }

  /** Reads the JSON body of a request that may be an AI call, within {@code max_inspect_bytes}. */
  private AiRequestInspector.Inspection inspect(Request request) throws IOException {
    String type = request.headers().first("Content-Type");
    long length = request.body().length();
    boolean json = type != null && type.toLowerCase(Locale.ROOT).contains("json");
    if (!json || !"POST".equals(request.method()) || length > settings.maxInspectBytes()) {
      return AiRequestInspector.Inspection.unknown(Math.max(0, length));
    }
    byte[] body;
    try {
      body = request.body().readAll(settings.maxInspectBytes());
    } catch (dev.portalgateway.api.BodyTooLargeException e) {
      throw new dev.portalgateway.api.ProblemException(Problem.of(413, "request-too-large-to-meter", "Content Too Large",
          "This route has token budgets, and a request body longer than " + settings.maxInspectBytes()
              + " bytes cannot be metered.", "Send a smaller request, or ask the operator to raise max_inspect_bytes."));
    }
    return AiRequestInspector.inspect(body, request.upstreamPath(), settings.injectStreamUsage());
  }

  /**
   * Settles a request's reservations to what its response reported. A body that did not reach
   * its end (the client left and the drain gave up, or the upstream broke) is charged at least its
   * reservation, since what it reported may be partial.
   */
  private void settle(LimitStore counters, BudgetLedger.Admission admission, String lease, Usage usage,
      boolean complete) {
    long input = usage == null ? 0 : usage.inputTokens();
    long output = usage == null ? (complete ? settings.noUsageChargeTokens() : 0) : usage.outputTokens();
    String model = usage == null ? null : usage.model();
    Pricing.Price price = pricing.of(model);
    long tokens = input + output;
    long micros = price.micros(input, output);
    if (!complete) {
      tokens = Math.max(tokens, admission.reserved("tokens"));
      micros = Math.max(micros, admission.reserved("cost"));
    }
    telemetry.usage(lease, price.name(), input, output, micros, usage == null && complete);
    try {
      ledger.settle(counters, admission, tokens, micros);
    } catch (StoreUnavailableException e) {
      telemetry.storeFailure("settle", e);
    }
  }

  /** @return the refusal for a store failure under {@code on_store_failure: closed}, or null to go on */
  private Response storeFailed(String operation, StoreUnavailableException e) {
    telemetry.storeFailure(operation, e);
    if (settings.onStoreFailure().equals("open")) {
      return null;
    }
    return Problem.of(503, "rate-limit-store-unavailable", "Service Unavailable",
        "The gateway cannot check its rate limits right now, and is set to refuse requests until it can.",
        "Retry shortly.").toResponse(Headers.of("Retry-After", "1"));
  }

  private static Response withRateHeaders(Response response, BucketResult b) {
    Headers h = response.headers().toBuilder()
        .set("RateLimit-Limit", Long.toString(b.limit()))
        .set("RateLimit-Remaining", Long.toString(b.remaining()))
        .set("RateLimit-Reset", Long.toString(seconds(b.reset())))
        .build();
    return response.withHeaders(h);
  }

  private static Headers rateHeaders(BucketResult b) {
    return Headers.of("RateLimit-Limit", Long.toString(b.limit()), "RateLimit-Remaining", Long.toString(b.remaining()),
        "RateLimit-Reset", Long.toString(seconds(b.reset())));
  }

  /** Whole seconds, rounded up: a client that waits that long finds a token. */
  private static long seconds(Duration d) {
    long ms = d.toMillis();
    return ms <= 0 ? 0 : (ms + 999) / 1000;
  }

  private static String describe(String dimension) {
    return switch (dimension) {
      case "principal" -> "from this caller";
      case "client_ip" -> "from this address";
      case "lease" -> "to this route";
      default -> "to the gateway";
    };
  }

  private static String amount(String unit, long value) {
    return unit.equals("cost") ? String.format(Locale.ROOT, "%.4f", Pricing.fromMicros(value)) : value + " tokens";
  }
}
