package dev.portalgateway.api;

import java.io.IOException;

/**
 * An endpoint a plugin adds to the gateway's admin listener with
 * {@link PluginContext#adminEndpoint(String, AdminEndpoint)}, such as a cache's
 * {@code POST /plugins/cache-mcp/purge?lease=NAME}.
 *
 * <p>The {@link Request} of an admin call holds:
 * <ul>
 *   <li>{@link Request#method()}: the method as the client sent it, upper-case;</li>
 *   <li>{@link Request#path()}: the whole path, such as {@code /plugins/cache-mcp/purge};
 *       {@link Request#upstreamPath()} is the endpoint's own part, {@code /purge};</li>
 *   <li>{@link Request#rawQuery()}: the query, still percent-encoded, or {@code null}; read it
 *       with {@link Request#queryParameter(String)};</li>
 *   <li>{@link Request#headers()}: the header fields as received;</li>
 *   <li>{@link Request#body()}: the whole body, already read and replayable, of at most 1 MiB
 *       (a longer one is answered {@code 413} before the endpoint is called);</li>
 *   <li>{@link Request#route()}: the plugin's name, not an upstream or lease;</li>
 *   <li>{@link Request#clientAddress()}: the address that connected to the admin listener (no
 *       {@code X-Forwarded-For} is trusted there);</li>
 *   <li>{@link Request#requestId()}: from {@code X-Request-Id}, or generated.</li>
 * </ul>
 *
 * <p>The admin listener has no authentication of its own: it is protected by where it listens
 * ({@code server.admin_listen}, loopback by default). An endpoint must never expose a secret, and
 * should change state only for {@code POST} (answering other methods {@code 405}, with
 * {@code Allow: POST}): the gateway leaves the method check to the endpoint. Because a web page
 * can make a browser POST to a loopback address, the gateway answers {@code 403} without calling
 * the endpoint when the call carries {@code Origin}, or {@code Sec-Fetch-Site} other than
 * {@code none}: browsers send those, scripts and tools do not.
 *
 * <p>Endpoints are called concurrently, each on its own virtual thread, with the plugin's class
 * loader as the thread context class loader, and must be thread-safe.
 */
@FunctionalInterface
public interface AdminEndpoint {

  /**
   * Handles one admin call.
   *
   * @param request the call; see the type's description for what it holds
   * @return the response, never {@code null}; its body is streamed to the caller
   * @throws IOException when the call fails: throw {@link ProblemException} to answer with a
   *     specific status and RFC 9457 problem document; anything else is answered
   *     {@code 500 internal-error} and logged with the plugin's name, without a stack trace
   */
  Response handle(Request request) throws IOException;
}
