package dev.portalgateway.host.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portalgateway.api.CidrBlock;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads, substitutes, binds and validates the configuration file. The same code runs at startup,
 * for {@code validate-config}, and on every reload, so all three accept and reject the same files.
 */
public final class ConfigLoader {
  private static final Pattern ROUTE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final java.util.List<String> HTTP_PROVIDERS = java.util.List.of("portal", "jdk", "robaho");

  private final Function<String, String> env;
  private final Path defaultPluginsDir;
  private final boolean resolveHosts;

  /**
   * @param env environment lookup for {@code ${NAME}}
   * @param defaultPluginsDir the plugins directory when {@code server.plugins_dir} is not set
   */
  public ConfigLoader(Function<String, String> env, Path defaultPluginsDir) {
    this(env, defaultPluginsDir, true);
  }

  /**
   * @param resolveHosts whether the listeners' host names are looked up (always, but in the fuzz
   *     target, which must not send DNS queries for the names it makes up)
   */
  ConfigLoader(Function<String, String> env, Path defaultPluginsDir, boolean resolveHosts) {
    this.env = env;
    this.defaultPluginsDir = defaultPluginsDir;
    this.resolveHosts = resolveHosts;
  }

  /**
   * @param file the configuration file, or {@code null} for the defaults
   * @return the validated configuration
   * @throws ConfigException naming the file, the key path and the fix
   */
  public LoadedConfig load(Path file) throws ConfigException {
    if (file == null) {
      return fromText("", null);
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("configuration file " + file + " does not exist; "
          + "pass an existing file with --config, or leave --config out to run on the defaults");
    } catch (IOException e) {
      throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
    }
    return fromText(text, file);
  }

  /**
   * @param text YAML text
   * @param file where it came from, or {@code null}; relative paths resolve against its folder
   * @return the validated configuration
   * @throws ConfigException naming the key path and the fix
   */
  public LoadedConfig fromText(String text, Path file) throws ConfigException {
    String source = file == null ? "configuration" : file.toString();
    JsonNode tree = ConfigBinder.parseYaml(text, source);
    try {
      new EnvSubstitution(env).apply(tree);
    } catch (ConfigException e) {
      throw new ConfigException(source + ": " + e.getMessage(), e);
    }
    GatewayConfig config;
    try {
      config = ConfigBinder.bind(tree, GatewayConfig.class, "");
    } catch (ConfigException e) {
      throw new ConfigException(source + ": " + e.getMessage(), e);
    }
    try {
      validate(config, resolveHosts);
    } catch (ConfigException e) {
      throw new ConfigException(source + ": " + e.getMessage(), e);
    }
    Path base = file == null ? Path.of("").toAbsolutePath() : file.toAbsolutePath().getParent();
    Path pluginsDir = config.server().pluginsDir() == null
        ? defaultPluginsDir
        : base.resolve(config.server().pluginsDir()).normalize();
    Path dataDir = base.resolve(config.server().dataDir()).normalize();
    Path keystore = config.server().tls() == null ? null : base.resolve(config.server().tls().keystore()).normalize();
    return new LoadedConfig(config, new GatewayConfig.Paths(file, pluginsDir, dataDir, keystore), fingerprint(text));
  }

  private static void validate(GatewayConfig c, boolean resolveHosts) throws ConfigException {
    ServerConfig s = c.server();
    check(() -> ListenAddress.parse(s.listen(), resolveHosts), "server.listen");
    check(() -> ListenAddress.parse(s.adminListen(), resolveHosts), "server.admin_listen");
    if (!HTTP_PROVIDERS.contains(s.httpProvider())) {
      throw new ConfigException("server.http_provider: '" + s.httpProvider() + "' is not a provider; use one of " + HTTP_PROVIDERS);
    }
    positive(s.maxHeaderBytes(), "server.max_header_bytes");
    positive(s.maxBodyBytes(), "server.max_body_bytes");
    positive(s.requestReadTimeout().toMillis(), "server.request_read_timeout");
    positive(s.maxConnections(), "server.max_connections");
    positive(s.clientIdleTimeout().toMillis(), "server.client_idle_timeout");
    positive(s.headerReadTimeout().toMillis(), "server.header_read_timeout");
    if (s.maxHeaderBytes() < 256) {
      throw new ConfigException("server.max_header_bytes: must be at least 256");
    }
    notNegative(s.shutdownGrace().toMillis(), "server.shutdown_grace");
    notNegative(s.configReloadInterval().toMillis(), "server.config_reload_interval");
    for (int i = 0; i < s.trustedProxies().size(); i++) {
      String cidr = s.trustedProxies().get(i);
      check(() -> CidrBlock.parse(cidr), "server.trusted_proxies[" + i + "]");
    }
    if (s.tls() != null && (s.tls().keystore() == null || s.tls().keystore().isBlank())) {
      throw new ConfigException("server.tls.keystore: set the PKCS#12 file with the certificate and key, or remove server.tls");
    }
    if (s.publicUrl() != null) {
      validateHttpUrl(s.publicUrl(), "server.public_url");
    }
    validateRoutePrefix(s.routePrefix());
    for (int i = 0; i < s.adminHosts().size(); i++) {
      String h = s.adminHosts().get(i);
      if (!h.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?")) {
        throw new ConfigException("server.admin_hosts[" + i + "]: '" + h + "' is not a host name (IP addresses are "
            + "always accepted and need no entry)");
      }
    }
    if (s.adminToken() != null && s.adminToken().length() < 16) {
      throw new ConfigException("server.admin_token: use at least 16 characters (openssl rand -base64 24), from the "
          + "environment: admin_token: ${GATEWAY_ADMIN_TOKEN}");
    }
    positive(c.proxy().connectTimeout().toMillis(), "proxy.connect_timeout");
    positive(c.proxy().responseTimeout().toMillis(), "proxy.response_timeout");
    notNegative(c.proxy().sseKeepalive().toMillis(), "proxy.sse_keepalive");
    positive(c.proxy().idleTimeout().toMillis(), "proxy.idle_timeout");
    positive(c.proxy().writeTimeout().toMillis(), "proxy.write_timeout");
    validateCors(c.cors(), "cors");
    validateRelayUrl(c.relay().url(), "relay.url");
    for (int i = 0; i < c.relay().urls().size(); i++) {
      validateRelayUrl(c.relay().urls().get(i), "relay.urls[" + i + "]");
    }
    positive(c.relay().connectTimeout().toMillis(), "relay.connect_timeout");
    positive(c.relay().handshakeTimeout().toMillis(), "relay.handshake_timeout");
    notNegative(c.relay().leaseCacheTtl().toMillis(), "relay.lease_cache_ttl");
    positive(c.relay().reconnectMax().toMillis(), "relay.reconnect_max");
    notNegative(c.relay().maxIdlePerLease(), "relay.max_idle_per_lease");
    positive(c.relay().idleTimeout().toMillis(), "relay.idle_timeout");
    notNegative(c.relay().leaseOutageWindow().toMillis(), "relay.lease_outage_window");
    for (Map.Entry<String, UpstreamConfig> e : c.upstreams().entrySet()) {
      String path = "upstreams." + e.getKey();
      if (!ROUTE_NAME.matcher(e.getKey()).matches()) {
        throw new ConfigException(path + ": an upstream name uses letters, digits, '.', '_' and '-' only");
      }
      UpstreamConfig u = e.getValue();
      if (u == null || u.url() == null) {
        throw new ConfigException(path + ": needs a url, such as " + e.getKey() + ": \"http://127.0.0.1:3000\"");
      }
      validateHttpUrl(u.url(), path);
      if (u.connectTimeout() != null) positive(u.connectTimeout().toMillis(), path + ".connect_timeout");
      if (u.responseTimeout() != null) positive(u.responseTimeout().toMillis(), path + ".response_timeout");
      if (u.sseKeepalive() != null) notNegative(u.sseKeepalive().toMillis(), path + ".sse_keepalive");
      if (u.idleTimeout() != null) positive(u.idleTimeout().toMillis(), path + ".idle_timeout");
      if (u.cors() != null) validateCors(u.cors(), path + ".cors");
    }
    for (Map.Entry<String, JsonNode> e : c.plugins().entrySet()) {
      JsonNode v = e.getValue();
      if (v != null && !v.isNull() && !v.isObject()) {
        throw new ConfigException("plugins." + e.getKey() + ": expected a mapping of the plugin's settings (or {} for none)");
      }
      if (v instanceof ObjectNode o && o.has("enabled") && !isBoolean(o.get("enabled"))) {
        throw new ConfigException("plugins." + e.getKey() + ".enabled: expected true or false");
      }
      if (v instanceof ObjectNode o && o.has("routes")) {
        validatePluginRoutes(o.get("routes"), "plugins." + e.getKey() + ".routes");
      }
    }
  }

  /** A route prefix is one or more path segments between slashes, such as {@code /peer/} or {@code /t/peer/}. */
  private static final Pattern ROUTE_PREFIX = Pattern.compile("(/[A-Za-z0-9._~-]+)+/");

  private static void validateRoutePrefix(String prefix) throws ConfigException {
    if (!ROUTE_PREFIX.matcher(prefix).matches() || prefix.contains("/./") || prefix.contains("/../")) {
      throw new ConfigException("server.route_prefix: '" + prefix + "' is not a mount point; use a path that starts and "
          + "ends with '/' and has at least one segment of letters, digits and . _ ~ -, such as /peer/");
    }
  }

  /** Route keys are names, or patterns with '*' standing for any run of characters. */
  private static final Pattern ROUTE_KEY = Pattern.compile("[A-Za-z0-9._*-]+");

  private static void validatePluginRoutes(JsonNode routes, String path) throws ConfigException {
    if (routes.isNull()) {
      return;
    }
    if (!routes.isObject()) {
      throw new ConfigException(path + ": expected a mapping of route names or patterns to the plugin's settings for "
          + "them, such as routes: { hooks: { enabled: false } }");
    }
    for (var it = routes.fields(); it.hasNext(); ) {
      var route = it.next();
      String where = path + "." + route.getKey();
      if (!ROUTE_KEY.matcher(route.getKey()).matches()) {
        throw new ConfigException(where + ": a route key is a route name or a pattern with '*', using letters, digits, "
            + "'.', '_', '-' and '*' only");
      }
      JsonNode v = route.getValue();
      if (v != null && !v.isNull() && !v.isObject()) {
        throw new ConfigException(where + ": expected a mapping of the plugin's settings for this route (or {} for the defaults)");
      }
      if (v instanceof ObjectNode o && o.has("enabled") && !isBoolean(o.get("enabled"))) {
        throw new ConfigException(where + ".enabled: expected true or false");
      }
      if (v instanceof ObjectNode o && o.has("routes")) {
        throw new ConfigException(where + ".routes: routes do not nest; put every route under " + path);
      }
    }
  }

  /** A boolean, or the text true/false that environment substitution produces. */
  static boolean isBoolean(JsonNode node) {
    return node.isBoolean() || (node.isTextual()
        && (node.textValue().trim().equalsIgnoreCase("true") || node.textValue().trim().equalsIgnoreCase("false")));
  }

  private static void validateCors(CorsConfig cors, String path) throws ConfigException {
    if (cors.allowCredentials() && cors.allowedOrigins().contains("*")) {
      throw new ConfigException(path + ".allow_credentials: browsers refuse credentials with allowed_origins \"*\"; "
          + "list the origins instead");
    }
    notNegative(cors.maxAge().toMillis(), path + ".max_age");
  }

  private static void validateHttpUrl(String url, String path) throws ConfigException {
    try {
      URI uri = new URI(url);
      if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
        throw new ConfigException(path + ": '" + url + "' must start with http:// or https://");
      }
      if (uri.getHost() == null) {
        throw new ConfigException(path + ": '" + url + "' has no host");
      }
      if (uri.getRawUserInfo() != null) {
        throw new ConfigException(path + ": the URL carries a user name or password, which the gateway does not send "
            + "and would show in messages; remove it and add credentials with a plugin or upstream setting");
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new ConfigException(path + ": '" + url + "' must not have a query or fragment");
      }
    } catch (URISyntaxException e) {
      throw new ConfigException(path + ": '" + url + "' is not a URL: " + e.getReason());
    }
  }

  private static void validateRelayUrl(String url, String path) throws ConfigException {
    try {
      URI uri = new URI(url);
      if (!"ws".equalsIgnoreCase(uri.getScheme()) && !"wss".equalsIgnoreCase(uri.getScheme())) {
        throw new ConfigException(path + ": '" + url + "' must start with ws:// or wss://");
      }
      if (uri.getHost() == null) {
        throw new ConfigException(path + ": '" + url + "' has no host");
      }
    } catch (URISyntaxException e) {
      throw new ConfigException(path + ": '" + url + "' is not a URL: " + e.getReason());
    }
  }

  private interface Check {
    void run() throws Exception;
  }

  private static void check(Check check, String path) throws ConfigException {
    try {
      check.run();
    } catch (Exception e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
  }

  private static void positive(long value, String path) throws ConfigException {
    if (value <= 0) {
      throw new ConfigException(path + ": must be greater than zero");
    }
  }

  private static void notNegative(long value, String path) throws ConfigException {
    if (value < 0) {
      throw new ConfigException(path + ": must not be negative");
    }
  }

  private static String fingerprint(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /**
   * A configuration that passed validation.
   *
   * @param config the settings
   * @param paths the resolved file and directories
   * @param fingerprint a hash of the file's text, to tell a real change from a touched file
   */
  public record LoadedConfig(GatewayConfig config, GatewayConfig.Paths paths, String fingerprint) {}
}
