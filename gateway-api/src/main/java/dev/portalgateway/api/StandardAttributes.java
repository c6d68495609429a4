package dev.portalgateway.api;

/** Attribute keys that the gateway and its plugins agree on. */
public final class StandardAttributes {
  private StandardAttributes() {}

  /**
   * The authenticated caller, set by an {@link Phase#AUTHENTICATE} filter and read by authorization,
   * rate limits (limits per principal) and caches (entries per principal).
   */
  public static final Attribute<Principal> PRINCIPAL = Attribute.of("principal", Principal.class);
}
