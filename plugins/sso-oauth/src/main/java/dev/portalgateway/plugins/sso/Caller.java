package dev.portalgateway.plugins.sso;

import dev.portalgateway.api.Principal;
import java.util.List;
import java.util.Set;

/**
 * What a verified token says, worked out once per token and kept with it in the cache, so that a
 * request with a token seen before costs a hash and a lookup, not a parse.
 *
 * @param principal the caller, for the request
 * @param audience the token's {@code aud}
 * @param scopes its scopes ({@code scope} and {@code scp})
 * @param groups its groups, from the configured claims
 * @param expiresAtMillis its {@code exp}
 */
record Caller(Principal principal, List<String> audience, Set<String> scopes, List<String> groups,
    long expiresAtMillis) {}
