package dev.portalgateway.api;

import java.util.Objects;
import java.util.Set;

/**
 * Who is calling, as established by an {@link Phase#AUTHENTICATE} filter.
 *
 * @param id a stable identifier, unique within {@code source}, safe to log and to key limits on
 *     (an API key id, an OIDC subject); never a secret
 * @param name a human name for logs and dashboards
 * @param source what authenticated the caller, such as {@code "auth-apikey"} or {@code "sso-oauth"}
 * @param scopes what the caller may do, as granted by the authenticator
 */
public record Principal(String id, String name, String source, Set<String> scopes) {
  /** Checks the fields and copies the scopes. */
  public Principal {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(source, "source");
    name = name == null ? id : name;
    scopes = scopes == null ? Set.of() : Set.copyOf(scopes);
  }

  /** @return whether the principal holds {@code scope} */
  public boolean hasScope(String scope) {
    return scopes.contains(scope);
  }
}
