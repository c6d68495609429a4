package dev.portalgateway.plugins.sso;

import java.util.List;

/**
 * A person's session, as stored (JSON) on the server. The cookie holds only its signed id.
 *
 * @param issuer the issuer the person logged in at
 * @param clientId the client the login was for
 * @param subject {@code sub}
 * @param name a display name: email, preferred_username or name
 * @param email the email, or null
 * @param groups groups and roles from the ID token or userinfo
 * @param scopes the access token's scopes, as the token endpoint reported them
 * @param idToken the ID token, for RP-initiated logout ({@code id_token_hint})
 * @param accessToken the access token
 * @param refreshToken the refresh token, or null
 * @param accessExpiresAt when the access token expires (epoch ms), or 0 when unknown
 * @param createdAt when the person logged in (epoch ms); refreshes never change it
 * @param lastSeenAt the last request (epoch ms), written at most every few seconds
 */
record BrowserSession(String issuer, String clientId, String subject, String name, String email, List<String> groups,
    List<String> scopes, String idToken, String accessToken, String refreshToken, long accessExpiresAt,
    long createdAt, long lastSeenAt) {

  BrowserSession withTokens(String access, String refresh, String id, long expiresAt) {
    return new BrowserSession(issuer, clientId, subject, name, email, groups, scopes, id == null ? idToken : id, access,
        refresh == null ? refreshToken : refresh, expiresAt, createdAt, lastSeenAt);
  }

  BrowserSession seenAt(long now) {
    return new BrowserSession(issuer, clientId, subject, name, email, groups, scopes, idToken, accessToken, refreshToken,
        accessExpiresAt, createdAt, now);
  }

  @Override
  public String toString() {
    return "BrowserSession[" + subject + "]"; // never the tokens
  }
}
