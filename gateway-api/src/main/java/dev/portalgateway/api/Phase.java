package dev.portalgateway.api;

/**
 * The fixed stages of the filter chain, in the order a request passes them. A response passes
 * them in the opposite order, as the chain unwinds.
 */
public enum Phase {
  /** Establish who is calling: API keys, SSO sessions, JWTs. Sets {@link StandardAttributes#PRINCIPAL}. */
  AUTHENTICATE,
  /** Decide whether the caller may reach the lease: ACLs, scopes, IP lists. */
  AUTHORIZE,
  /** Protect services and budgets: request rates, token and cost limits. */
  LIMIT,
  /** Answer from a cache where a stored answer is valid for this caller. */
  CACHE,
  /** Shape delivery to the upstream: retries, durable queues, header rewriting. */
  DELIVER
}
