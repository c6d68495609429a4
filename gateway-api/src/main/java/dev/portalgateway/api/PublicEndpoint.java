package dev.portalgateway.api;

import java.io.IOException;

/**
 * An endpoint a plugin serves on the gateway's public listener, outside the routes' mount point
 * ({@code /peer/} by default), added with {@link PluginContext#publicEndpoint(String, PublicEndpoint)}:
 * an OAuth protected-resource document at {@code /.well-known/oauth-protected-resource}, a login
 * callback, a logout page.
 *
 * <p>An endpoint added at {@code /.well-known/oauth-protected-resource} serves that path and every
 * path below it ({@code /.well-known/oauth-protected-resource/peer/docs/mcp}). Its
 * {@link Request} holds:
 * <ul>
 *   <li>{@link Request#method()}, {@link Request#headers()}, {@link Request#rawQuery()} as the
 *       client sent them;</li>
 *   <li>{@link Request#path()}: the whole path; {@link Request#upstreamPath()}: the part below the
 *       endpoint's own path ({@code /} for the path itself, {@code /peer/docs/mcp} above);</li>
 *   <li>{@link Request#body()}: the whole body, read and replayable, of at most 1 MiB (a longer
 *       one is answered {@code 413} first);</li>
 *   <li>{@link Request#route()}: the plugin's name;</li>
 *   <li>{@link Request#clientAddress()}: the client, behind {@code server.trusted_proxies} as for
 *       proxied requests;</li>
 *   <li>{@link Request#baseUrl()}: the gateway's public base URL, to build absolute links.</li>
 * </ul>
 *
 * <p>No filter runs in front of a public endpoint: anyone who reaches the gateway can call it,
 * from a browser too. Never expose a secret, check what you read, and answer methods you do not
 * serve with {@code 405}. Endpoints are called concurrently, each on its own virtual thread, with
 * the plugin's class loader as the thread context class loader.
 */
@FunctionalInterface
public interface PublicEndpoint {

  /**
   * Handles one call.
   *
   * @param request the call; see the type's description for what it holds
   * @return the response, never {@code null}; its body is streamed to the client
   * @throws IOException when the call fails: throw {@link ProblemException} to answer with a
   *     specific status; anything else is answered {@code 500 internal-error} and logged
   */
  Response handle(Request request) throws IOException;
}
