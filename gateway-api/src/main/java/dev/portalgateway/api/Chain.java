package dev.portalgateway.api;

import java.io.IOException;

/** The rest of the filter chain, as seen from one filter. */
@FunctionalInterface
public interface Chain {

  /**
   * Passes the request to the next filter, or to the connector after the last one.
   *
   * <p>May be called more than once (a retry). Each call consumes the request body unless the
   * body is {@linkplain Body#isReplayable() replayable}; a second call with a consumed streaming
   * body fails with {@link IllegalStateException}. A response that is not returned to the caller
   * must have its body {@linkplain Body#discard() discarded} so the upstream connection is freed.
   * A chain is valid only while the {@link Filter#handle} that received it runs; to send later,
   * use {@link PluginContext#routes()}.
   *
   * @param request the request to send on
   * @return the response of the rest of the chain
   * @throws IOException when the rest of the chain fails
   */
  Response proceed(Request request) throws IOException;
}
