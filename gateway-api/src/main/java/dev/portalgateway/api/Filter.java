package dev.portalgateway.api;

import java.io.IOException;

/**
 * One plugin's step in the request chain, modelled on OkHttp's interceptors.
 *
 * <p>A filter can:
 * <ul>
 *   <li>answer by itself, without calling the chain (a 401, a 429, a cache hit);</li>
 *   <li>pass on a changed request: {@code chain.proceed(request.withHeader("X-User", id))};</li>
 *   <li>call {@link Chain#proceed} more than once, for a retry, after making the request body
 *       replayable with {@link Request#withReplayableBody(long)};</li>
 *   <li>wrap the response body as it streams, without buffering it:
 *       {@code response.withBody(response.body().map(in -> new CountingStream(in)))};</li>
 *   <li>attach {@linkplain Request#withAttribute attributes} for the filters after it.</li>
 * </ul>
 *
 * <p>Filters are called concurrently from many (virtual) threads and must be thread-safe.
 * Blocking I/O is fine: every request runs on its own virtual thread.
 */
@FunctionalInterface
public interface Filter extends AutoCloseable {

  /**
   * Handles one request.
   *
   * @param request the request as the previous filters left it
   * @param chain the rest of the chain, ending in the connector
   * @return the response to send back towards the client
   * @throws IOException when the exchange fails; throw {@link ProblemException} to answer with a
   *     specific status and RFC 9457 problem document
   */
  Response handle(Request request, Chain chain) throws IOException;

  /**
   * Told once how an exchange on a route this filter is bound to ended: after the response's last
   * byte went out, or when the exchange was cut short. Called for every such exchange, also one
   * that an earlier filter or the gateway refused before this filter saw it, so an audit plugin
   * sees the refusals too; {@link Completion#request()} carries the attributes the filters
   * attached, so per-exchange state travels there.
   *
   * <p>Called on the exchange's own virtual thread after the client's connection is done with, in
   * chain order. Keep it short or hand the work off; whatever it throws is logged and dropped. The
   * default does nothing, and the gateway does not even build the report when no filter of a route
   * overrides this method.
   *
   * @param completion how the exchange ended
   */
  default void completed(Completion completion) {}

  /** Releases what the filter holds; called once after its last request. The default does nothing. */
  @Override
  default void close() {}
}
