package dev.portalgateway.api;

import java.util.Map;
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
 * @param claims more facts the authenticator vouches for, for later filters: a rate tier, the
 *     leases a key may reach, an SSO session's expiry. Never a secret. Plugins agree on names;
 *     {@code source}-prefixed names (such as {@code "auth-apikey.tier"}) avoid clashes.
 */
public record Principal(String id, String name, String source, Set<String> scopes, Map<String, String> claims) {
  /** Checks the fields and copies the collections. */
  public Principal {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(source, "source");
    name = name == null ? id : name;
    scopes = scopes == null ? Set.of() : Set.copyOf(scopes);
    claims = claims == null ? Map.of() : Map.copyOf(claims);
  }

  /** A principal without claims. */
  public Principal(String id, String name, String source, Set<String> scopes) {
    this(id, name, source, scopes, null);
  }

  /** @return whether the principal holds {@code scope} */
  public boolean hasScope(String scope) {
    return scopes.contains(scope);
  }

  /** @return the claim's value, or {@code null} */
  public String claim(String name) {
    return claims.get(name);
  }
}
