package dev.portalgateway.plugins.sso;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The gateway as an OAuth client of the IdP's back channel: the token endpoint (code exchange,
 * refresh) and the userinfo endpoint. Every call has a time limit and reads at most 256 KiB;
 * secrets and tokens never reach a log or an exception message.
 */
final class OidcClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BYTES = 256 * 1024;

  private final HttpClient http;
  private final Duration timeout;
  private final String clientId;
  private final String clientSecret;

  /**
   * What the token endpoint answered.
   *
   * @param expiresInSeconds {@code expires_in}, or -1 when absent
   */
  record Tokens(String accessToken, String refreshToken, String idToken, long expiresInSeconds, String scope) {
    @Override
    public String toString() {
      return "Tokens[expires_in=" + expiresInSeconds + "]";
    }
  }

  /** The IdP refused or failed; {@code invalidGrant} when it says the code or refresh token is no good. */
  static final class Failed extends IOException {
    final boolean invalidGrant;

    Failed(String message, boolean invalidGrant) {
      super(message);
      this.invalidGrant = invalidGrant;
    }
  }

  OidcClient(String clientId, String clientSecret, Duration timeout) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  Tokens exchangeCode(String tokenEndpoint, String code, String redirectUri, String verifier) throws IOException {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "authorization_code");
    form.put("code", code);
    form.put("redirect_uri", redirectUri);
    form.put("code_verifier", verifier);
    return tokens(tokenEndpoint, form);
  }

  Tokens refresh(String tokenEndpoint, String refreshToken) throws IOException {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "refresh_token");
    form.put("refresh_token", refreshToken);
    return tokens(tokenEndpoint, form);
  }

  JsonNode userinfo(String endpoint, String accessToken) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint)).timeout(timeout)
        .header("Authorization", "Bearer " + accessToken).header("Accept", "application/json").GET().build();
    HttpResponse<InputStream> response = send(request);
    JsonNode body = read(response);
    if (response.statusCode() != 200 || !body.isObject()) {
      throw new Failed("the userinfo endpoint answered " + response.statusCode(), false);
    }
    return body;
  }

  private Tokens tokens(String endpoint, Map<String, String> form) throws IOException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint)).timeout(timeout)
        .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json");
    if (clientSecret != null) {
      // client_secret_basic: id and secret form-encoded first (RFC 6749 section 2.3.1)
      String credentials = encode(clientId) + ":" + encode(clientSecret);
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
    } else {
      form.put("client_id", clientId); // a public client: PKCE is its proof
    }
    String body = form.entrySet().stream().map(e -> encode(e.getKey()) + "=" + encode(e.getValue()))
        .collect(Collectors.joining("&"));
    HttpResponse<InputStream> response = send(b.POST(HttpRequest.BodyPublishers.ofString(body)).build());
    JsonNode json = read(response);
    if (response.statusCode() != 200) {
      String error = json.path("error").asText("");
      throw new Failed("the token endpoint answered " + response.statusCode() + (error.isEmpty() ? "" : " " + error),
          error.equals("invalid_grant"));
    }
    String access = json.path("access_token").asText(null);
    if (access == null || access.isEmpty()) {
      throw new Failed("the token endpoint answered without an access_token", false);
    }
    return new Tokens(access, json.path("refresh_token").asText(null), json.path("id_token").asText(null),
        json.path("expires_in").asLong(-1), json.path("scope").asText(null));
  }

  private HttpResponse<InputStream> send(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while calling " + request.uri().getHost(), e);
    } catch (IOException e) {
      throw new Failed("cannot reach " + request.uri().getScheme() + "://" + request.uri().getAuthority() + ": "
          + e.getClass().getSimpleName(), false);
    }
  }

  private static JsonNode read(HttpResponse<InputStream> response) throws IOException {
    try (InputStream in = response.body()) {
      byte[] bytes = in.readNBytes(MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw new Failed("the IdP's answer is larger than " + MAX_BYTES + " bytes", false);
      }
      try {
        JsonNode node = JSON.readTree(bytes);
        return node == null ? JSON.createObjectNode() : node;
      } catch (IOException notJson) {
        return JSON.createObjectNode();
      }
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    http.close();
  }
}
