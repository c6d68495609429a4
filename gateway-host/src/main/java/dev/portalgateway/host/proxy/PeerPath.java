package dev.portalgateway.host.proxy;

import dev.portalgateway.api.Problem;
import dev.portalgateway.api.ProblemException;
import java.util.Locale;

/**
 * A request path of the form {@code {prefix}{name}/{rest}} ({@code /peer/{name}/{rest}} with the
 * default {@code server.route_prefix}), split into the route name and the path to ask the
 * upstream for.
 *
 * @param route the upstream or lease name
 * @param upstreamPath the rest, always starting with {@code /}
 */
record PeerPath(String route, String upstreamPath) {

  /**
   * @param rawPath the path as received, still percent-encoded
   * @param prefix where routes are mounted, starting and ending with {@code /}
   * @return the parsed path
   * @throws ProblemException 404 when the path is not under {@code /peer/NAME}, 400 when it holds
   *     a dot segment
   */
  static PeerPath parse(String rawPath, String prefix) throws ProblemException {
    if (rawPath == null || !rawPath.startsWith(prefix) || rawPath.length() == prefix.length()
        || rawPath.charAt(prefix.length()) == '/') {
      throw new ProblemException(Problem.of(404, "not-found", "Not Found",
          "The gateway serves " + prefix + "NAME/... only; '" + rawPath + "' names no upstream or lease.",
          "Call " + prefix + "NAME/PATH, where NAME is an upstream from the configuration or a Portal lease."));
    }
    int slash = rawPath.indexOf('/', prefix.length());
    String route = slash < 0 ? rawPath.substring(prefix.length()) : rawPath.substring(prefix.length(), slash);
    String rest = slash < 0 ? "/" : rawPath.substring(slash);
    if (hasDotSegment(rest)) {
      throw new ProblemException(Problem.of(400, "bad-path", "Bad Request",
          "The path contains a '.' or '..' segment.",
          "Send the path with dot segments resolved; the gateway does not forward them to upstreams."));
    }
    return new PeerPath(route, rest);
  }

  /**
   * Whether a segment is {@code .} or {@code ..}, as upstreams will read it: percent-encoded dots,
   * encoded slashes and backslashes that some servers decode before resolving dots, and matrix
   * parameters ({@code ..;x}) that Tomcat, Jetty and Spring strip first. Forwarding one would let
   * {@code /peer/app/../../admin} escape the upstream's base path.
   */
  private static boolean hasDotSegment(String path) {
    int dots = 0; // dots in the current segment so far, or -1 once it holds anything else
    boolean inParams = false;
    for (int i = 0; i <= path.length(); i++) {
      char c = i < path.length() ? path.charAt(i) : '/';
      if (c == '%' && i + 2 < path.length()) {
        String hex = path.substring(i + 1, i + 3).toLowerCase(Locale.ROOT);
        switch (hex) {
          case "2e" -> c = '.';
          case "2f", "5c" -> c = '/';
          case "3b" -> c = ';';
          default -> c = 'x';
        }
        i += 2;
      }
      if (c == '/' || c == '\\') {
        if (dots == 1 || dots == 2) {
          return true;
        }
        dots = 0;
        inParams = false;
      } else if (inParams) {
        // ignore everything after ';' up to the next separator
      } else if (c == ';') {
        inParams = true;
      } else if (c == '.' && dots >= 0) {
        dots++;
      } else {
        dots = -1;
      }
    }
    return false;
  }
}
