package dev.portalgateway.plugins.ratelimit;

import dev.portalgateway.api.Body;
import dev.portalgateway.api.Chain;
import dev.portalgateway.api.Filter;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Request-rate limits, then token and cost budgets, then the request; the response's usage
 * settles the budgets as it streams past. Answers on a route with a request-rate limit carry
 * {@code RateLimit-*} headers; refusals are 429 problem documents with {@code Retry-After}.
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

    String type = request.headers().first("Content-Type");
    if (!"POST".equals(request.method()) || type == null || !type.toLowerCase(Locale.ROOT).contains("json")) {
      // Budgets count AI calls: JSON POSTs. Anything else is not charged, and not refused by them.
      Response response = chain.proceed(request);
      return decision == null || decision.tightest() == null ? response : withRateHeaders(response, decision.tightest());
    }
    Inspected inspected = inspect(request);
    AiRequestInspector.Inspection inspection = inspected.inspection();
    Request forwarded = request.withBody(inspected.body());
    boolean aiCall = inspected.tooLarge()
        || inspection.api() == AiRequestInspector.Api.OPENAI_COMPLETIONS
        || inspection.api() == AiRequestInspector.Api.ANTHROPIC_MESSAGES
        || (inspection.api() == AiRequestInspector.Api.OTHER_JSON && inspection.model() != null);
    if (!aiCall) {
      Response response = chain.proceed(forwarded);
      return decision == null || decision.tightest() == null ? response : withRateHeaders(response, decision.tightest());
    }
    Pricing.Price price = pricing.of(inspection.model());
    // About four bytes of JSON a prompt token; a body too long to read counts at its length so far.
    long inputEstimate = Math.max(0, inspected.length()) / 4;
    long outputEstimate = inspection.maxTokens() != null ? inspection.maxTokens() : settings.defaultMaxTokens();
    BudgetLedger.Admission admission;
    try {
      admission = ledger.reserve(counters, principal, lease, inputEstimate + outputEstimate,
          price.micros(inputEstimate, outputEstimate), price.isFree());
    } catch (StoreUnavailableException e) {
      Response refusal = storeFailed("reserve", e);
      if (refusal != null) {
        return refusal;
      }
      admission = null; // failing open: the call goes on, metered but not counted against a budget
    }
    if (admission != null && !admission.allowed()) {
      BudgetLedger.Reservation r = admission.refused();
      telemetry.limited("budget_" + r.window().unit());
      BudgetResult result = admission.refusedResult();
      return Problem.of(429, "budget-exhausted", "Too Many Requests",
          "The " + (r.window().unit().equals("cost") ? "cost" : "token") + " budget per " + r.window().name()
              + (r.key().startsWith("budget:lease:") ? " of '" + lease + "'" : " of this caller")
              + " has no room for this request (" + amount(r.window().unit(), result.used()) + " of "
              + amount(r.window().unit(), result.limit()) + " used).",
          "The budget starts again when the window ends; see Retry-After. A smaller max_tokens may fit sooner.")
          .toResponse(Headers.of("Retry-After", Long.toString(seconds(result.reset()))));
    }

    Response response;
    try {
      response = chain.proceed(forwarded);
    } catch (IOException | RuntimeException e) {
      if (admission != null) {
        try {
          ledger.release(counters, admission); // the upstream was never charged for it
        } catch (StoreUnavailableException failed) {
          telemetry.storeFailure("release", failed);
        }
      }
      throw e;
    }
    BudgetLedger.Admission settled = admission;
    String contentType = response.headers().first("Content-Type");
    UsageMeter.Drain drain = new UsageMeter.Drain(settings.abandonedStreamTimeout(), UsageMeter.DRAIN_MAX_BYTES);
    response = response.withBody(response.body().map(in -> UsageMeter.wrap(in, contentType,
        inspection.usageInjected(), inspection.model(), drain,
        (usage, complete) -> settle(counters, settled, lease, inspection.model(), usage, complete))));
    return decision == null || decision.tightest() == null ? response : withRateHeaders(response, decision.tightest());
  }

  /**
   * A JSON request body as it will be forwarded, and what it says.
   *
   * @param inspection what the body says; unknown when it was too long to read
   * @param body the body to forward: the bytes read (rewritten or not), or those plus the rest
   * @param length the body's length, or what was read of it when it was too long
   * @param tooLarge whether the body was longer than {@code max_inspect_bytes}
   */
  private record Inspected(AiRequestInspector.Inspection inspection, Body body, long length, boolean tooLarge) {}

  /**
   * Reads the JSON body of a request, up to {@code max_inspect_bytes}. A longer body is still
   * forwarded whole, and counted as an AI call of unknown model and size: it reserves the default
   * estimate and is metered like any other.
   */
  private Inspected inspect(Request request) throws IOException {
    InputStream in = request.body().open();
    byte[] head = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, settings.maxInspectBytes() + 1));
    if (head.length > settings.maxInspectBytes()) {
      Body whole = Body.ofStream(new SequenceInputStream(new ByteArrayInputStream(head), in), request.body().length());
      return new Inspected(AiRequestInspector.Inspection.unknown(request.body().length()), whole, head.length, true);
    }
    in.close();
    AiRequestInspector.Inspection inspection = AiRequestInspector.inspect(head, request.upstreamPath(),
        settings.injectStreamUsage());
    byte[] outgoing = inspection.rewrittenBody() != null ? inspection.rewrittenBody() : head;
    return new Inspected(inspection, Body.of(outgoing), head.length, false);
  }

  /**
   * Settles a request's reservations to what its response reported. A body that did not reach
   * its end (the client left and the drain gave up, or the upstream broke) is charged at least its
   * reservation, since what it reported may be partial.
   */
  private void settle(LimitStore counters, BudgetLedger.Admission admission, String lease, String requestModel,
      Usage usage, boolean complete) {
    long input = usage == null ? 0 : usage.inputTokens();
    long output = usage == null ? (complete ? settings.noUsageChargeTokens() : 0) : usage.outputTokens();
    String model = usage == null || usage.model() == null ? requestModel : usage.model();
    Pricing.Price price = pricing.of(model);
    long tokens = input + output;
    long micros = price.micros(input, output);
    if (!complete && admission != null) {
      tokens = Math.max(tokens, admission.reserved("tokens"));
      micros = Math.max(micros, admission.reserved("cost"));
      output = tokens - input; // what is charged is what is reported
    }
    telemetry.usage(lease, price.name(), input, output, micros, usage == null && complete);
    if (admission == null) {
      return; // admitted while the store was down: counted in metrics, not in a budget
    }
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
