package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import java.util.Locale;

/**
 * A request path of the form {@code /peer/{name}/{rest}}, split into the route name and the path
 * to ask the upstream for.
 *
 * @param route the upstream or lease name
 * @param upstreamPath the rest, always starting with {@code /}
 */
record PeerPath(String route, String upstreamPath) {
  static final String PREFIX = "/peer/";

  /**
   * @param rawPath the path as received, still percent-encoded
   * @return the parsed path
   * @throws ProblemException 404 when the path is not under {@code /peer/NAME}, 400 when it holds
   *     a dot segment
   */
  static PeerPath parse(String rawPath) throws ProblemException {
    if (rawPath == null || !rawPath.startsWith(PREFIX) || rawPath.length() == PREFIX.length()
        || rawPath.charAt(PREFIX.length()) == '/') {
      throw new ProblemException(Problem.of(404, "not-found", "Not Found",
          "The gateway serves /peer/NAME/... only; '" + rawPath + "' names no upstream or lease.",
          "Call /peer/NAME/PATH, where NAME is an upstream from the configuration or a Portal lease."));
    }
    int slash = rawPath.indexOf('/', PREFIX.length());
    String route = slash < 0 ? rawPath.substring(PREFIX.length()) : rawPath.substring(PREFIX.length(), slash);
    String rest = slash < 0 ? "/" : rawPath.substring(slash);
    if (hasDotSegment(rest)) {
      throw new ProblemException(Problem.of(400, "bad-path", "Bad Request",
          "The path contains a '.' or '..' segment.",
          "Send the path with dot segments resolved; the gateway does not forward them to upstreams."));
    }
    return new PeerPath(route, rest);
  }

  /**
   * Whether a segment is {@code .} or {@code ..}, also percent-encoded. Upstreams resolve them, so
   * forwarding one would let {@code /peer/app/../../admin} escape the upstream's base path.
   */
  private static boolean hasDotSegment(String path) {
    int start = 1;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      // An upstream that decodes %2F before resolving dots sees "..%2Fadmin" as "../admin".
      String segment = path.substring(start, end).toLowerCase(Locale.ROOT).replace("%2e", ".");
      for (String part : segment.split("%2f|\\\\|%5c", -1)) {
        if (part.equals(".") || part.equals("..")) {
          return true;
        }
      }
      start = end + 1;
    }
    return false;
  }
}
