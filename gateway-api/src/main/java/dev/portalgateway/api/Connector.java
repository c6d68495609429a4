package dev.portalgateway.api;

import java.io.IOException;

/**
 * The end of the chain: sends a request to its upstream and returns the response as it starts to
 * arrive, with the body still streaming.
 *
 * <p>The gateway ships two: {@code http}, for upstreams configured with a URL, and {@code portal},
 * for leases reached through a Portal relay. The request's {@link Request#route()} names the
 * upstream or lease; {@link Request#target()} is the path and query to ask it for.
 *
 * <p>Failures are {@link ProblemException}s with the status a client should see: 502 when the
 * upstream cannot be reached or answers with garbage, 504 when it does not answer in time, 503
 * when the way to it (a relay) is down.
 */
public interface Connector extends AutoCloseable {

  /**
   * @param request the request, after every filter
   * @return the response; its body streams from the upstream and must be read or discarded
   * @throws IOException when the exchange fails, preferably as a {@link ProblemException}
   */
  Response send(Request request) throws IOException;

  /** Releases pooled connections and sessions. */
  @Override
  default void close() {}
}
