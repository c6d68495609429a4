package dev.portalgateway.plugins.sso;

/**
 * A login in progress, stored (JSON) under its {@code state} until the IdP sends the browser back,
 * for at most ten minutes, and taken exactly once.
 *
 * @param login which login configuration started it ({@link BrowserLogin#key()})
 * @param verifier the PKCE code verifier
 * @param nonce the nonce the ID token must carry
 * @param returnTo the path (and query) to go back to: always a path on this gateway
 * @param binding the value of the browser's login cookie, so that only the browser that started
 *     the login can finish it
 */
record PendingLogin(String login, String verifier, String nonce, String returnTo, String binding) {
  @Override
  public String toString() {
    return "PendingLogin[" + login + "]";
  }
}
