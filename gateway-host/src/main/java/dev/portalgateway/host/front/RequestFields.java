package dev.portalgateway.host.front;

import dev.portalgateway.api.Headers;

/**
 * An exchange whose request fields the gateway parsed itself (the {@code portal} front server):
 * they are at hand as the plugin API's {@link Headers}, in the order received, names as sent, so
 * the proxy path takes them as they are instead of through the {@code com.sun.net.httpserver}
 * view, which normalises every name and checks every value again.
 */
public interface RequestFields {
  /** @return the request's header fields */
  Headers requestFields();
}
