package dev.portalgateway.api;

/**
 * A filter that establishes who is calling from a credential it recognises, so that several can
 * share a route: API keys beside OIDC bearer tokens, say. Its plugin's phase must be
 * {@link Phase#AUTHENTICATE}.
 *
 * <p>The gateway's rule for the authenticators bound to a route, in chain order:
 * <ol>
 *   <li>The first whose {@link #recognizes} says {@code true} handles the request alone: it lets
 *       the request through (setting {@link StandardAttributes#PRINCIPAL}) or refuses it.</li>
 *   <li>When none recognises a credential, each is asked in turn to {@linkplain #handle handle}
 *       the request: the first that lets it through or answers anything but {@code 401} decides
 *       (a route an authenticator leaves public, say). When every one answers {@code 401}, the
 *       client gets one {@code 401}: the first one's body, with every authenticator's
 *       {@code WWW-Authenticate} challenge, so a client learns each way in. A {@code 401} thrown
 *       as a {@link ProblemException} counts like a returned one.</li>
 * </ol>
 *
 * <p>So an authenticator must not claim what it cannot read: a JWT is not a malformed API key.
 * {@code recognizes} is called on every request and should be cheap: look at the shape of a
 * header, never verify anything.
 *
 * <pre>{@code
 * final class TokenFilter implements Authenticator {
 *   public boolean recognizes(Request request) {
 *     String auth = request.headers().first("Authorization");
 *     return auth != null && auth.regionMatches(true, 0, "Bearer ey", 0, 9); // a JWT's shape
 *   }
 *   public Response handle(Request request, Chain chain) throws IOException { ... }
 * }
 * }</pre>
 */
public interface Authenticator extends Filter {

  /**
   * Whether the request carries a credential of this authenticator's kind, valid or not. Must not
   * block, and must not judge validity: that is {@link #handle}'s job, which then answers
   * {@code 401} for a bad credential it recognised.
   *
   * @param request the request as it reaches the authenticators
   * @return {@code true} when this authenticator should decide the request
   */
  boolean recognizes(Request request);
}
