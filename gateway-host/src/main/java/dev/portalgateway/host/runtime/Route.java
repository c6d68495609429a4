package dev.portalgateway.host.runtime;

import dev.portalgateway.api.Connector;
import dev.portalgateway.host.proxy.CorsPolicy;
import java.time.Duration;

/**
 * What the gateway knows about one name under {@code /peer/}.
 *
 * @param name the upstream or lease name
 * @param connector reaches it
 * @param cors its CORS policy
 * @param sseKeepalive idle time before a keep-alive comment on an event stream; zero is off
 * @param basePath the path of the upstream's URL without a trailing slash, or empty
 * @param origin the upstream's {@code scheme://host[:port]} in lower case, or {@code null} when unknown
 */
public record Route(String name, Connector connector, CorsPolicy cors, Duration sseKeepalive, String basePath,
    String origin) {}
