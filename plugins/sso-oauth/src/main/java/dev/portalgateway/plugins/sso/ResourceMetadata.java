package dev.portalgateway.plugins.sso;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portalgateway.api.Body;
import dev.portalgateway.api.Headers;
import dev.portalgateway.api.Problem;
import dev.portalgateway.api.PublicEndpoint;
import dev.portalgateway.api.Request;
import dev.portalgateway.api.Response;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * RFC 9728 protected-resource metadata, as MCP clients look for it: at
 * {@code /.well-known/oauth-protected-resource/peer/ROUTE} (the route's path appended) and, for
 * the route named by {@code root_resource}, at {@code /.well-known/oauth-protected-resource}
 * itself. The {@code resource} is the URL the client calls (the path after the metadata path),
 * built from the gateway's public URL: VS Code and others compare the two strictly.
 */
final class ResourceMetadata implements PublicEndpoint {
  static final String PATH = "/.well-known/oauth-protected-resource";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ROUTE = Pattern.compile("[A-Za-z0-9._~-]+");
  /** What may follow the metadata path: a plain URL path, echoed back into the document. */
  private static final Pattern PATH_BELOW = Pattern.compile("(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)+");

  private final SsoSettings settings;
  private final String routePrefix;

  ResourceMetadata(SsoSettings settings, String routePrefix) {
    this.settings = settings;
    this.routePrefix = routePrefix;
  }

  /**
   * @return the route's resource URL: a token whose audience is this URL, or any URL below it,
   *     is for this route
   */
  String resource(Request request) {
    return request.baseUrl() + routePrefix + request.route();
  }

  /**
   * @return where the metadata for the URL this request called is served: path-suffixed with
   *     the whole path, because clients compare its {@code resource} with the URL they call
   */
  String url(Request request) {
    String path = request.path();
    return request.baseUrl() + PATH + (PATH_BELOW.matcher(path).matches() ? path : routePrefix + request.route());
  }

  @Override
  public Response handle(Request request) {
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return Problem.of(405, "method-not-allowed", "Method Not Allowed", "Only GET reads this document.", null)
          .toResponse(Headers.of("Allow", "GET, HEAD"));
    }
    String below = request.upstreamPath();
    String route;
    String path;
    if (below.equals("/")) {
      route = settings.rootResource();
      path = routePrefix + route;
      if (route == null) {
        return Problem.of(404, "no-root-resource", "Not Found",
            "This gateway describes each route at " + PATH + routePrefix + "ROUTE.",
            "An operator can name the route described here with plugins.sso-oauth.root_resource.").toResponse();
      }
    } else if (below.startsWith(routePrefix)) {
      String rest = below.substring(routePrefix.length());
      int slash = rest.indexOf('/');
      route = slash < 0 ? rest : rest.substring(0, slash);
      path = below;
      if (!ROUTE.matcher(route).matches() || !PATH_BELOW.matcher(below).matches()) {
        return notFound();
      }
    } else {
      return notFound();
    }
    ObjectNode doc = JSON.createObjectNode();
    doc.put("resource", request.baseUrl() + path);
    ArrayNode servers = doc.putArray("authorization_servers");
    settings.issuers().forEach(servers::add);
    doc.putArray("bearer_methods_supported").add("header");
    Set<String> scopes = new LinkedHashSet<>(settings.requiredScopesFor(route));
    scopes.addAll(settings.scopesSupported());
    if (!scopes.isEmpty()) {
      ArrayNode s = doc.putArray("scopes_supported");
      scopes.forEach(s::add);
    }
    doc.put("resource_name", route);
    Headers headers = Headers.of("Content-Type", "application/json", "Cache-Control", "public, max-age=300",
        // Browser-based MCP clients (the inspector) read this cross-origin.
        "Access-Control-Allow-Origin", "*");
    return Response.of(200, headers, Body.of(doc.toString()));
  }

  private static Response notFound() {
    return Problem.of(404, "no-such-resource", "Not Found", "No protected resource is described at this path.", null)
        .toResponse();
  }
}
