package dev.portalgateway.redis;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where a Redis server is and how to log in, parsed from {@code redis://[[user]:password@]host[:port][/db]}
 * or {@code rediss://...} (TLS). As with {@code redis-cli -u}, userinfo without a colon is a password
 * alone; userinfo is percent-decoded, so a password holding {@code @}, {@code :} or {@code /} is
 * written with {@code %40}, {@code %3A}, {@code %2F}.
 *
 * <p>The password never appears in {@link #toString()}, {@link #redacted()} or in the messages of
 * parse errors, since those end up in logs.
 *
 * @param host a host name or IP address (IPv6 without brackets)
 * @param port the TCP port, 6379 unless the URL names one
 * @param tls whether to speak TLS ({@code rediss://})
 * @param user the ACL user for {@code AUTH}, or {@code null} for the default user
 * @param password the password for {@code AUTH}, or {@code null} for none
 * @param database the database for {@code SELECT}, 0 unless the URL names one
 */
public record RedisEndpoint(String host, int port, boolean tls, String user, String password, int database) {
  public static final int DEFAULT_PORT = 6379;

  /**
   * @throws IllegalArgumentException saying what is wrong, without the password
   */
  public static RedisEndpoint parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("the Redis URL is empty; expected redis://host:port");
    }
    URI uri;
    try {
      uri = new URI(url.strip());
    } catch (URISyntaxException e) {
      // The exception's own message quotes the whole input, password included.
      throw new IllegalArgumentException("'" + redact(url) + "' is not a valid URL; expected redis://[[user]:password@]host[:port][/db]");
    }
    String scheme = uri.getScheme();
    boolean tls;
    if ("redis".equalsIgnoreCase(scheme)) {
      tls = false;
    } else if ("rediss".equalsIgnoreCase(scheme)) {
      tls = true;
    } else {
      throw new IllegalArgumentException("'" + redact(url) + "': the scheme must be redis:// or rediss:// (TLS)");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("'" + redact(url) + "' names no host (or the port is not a number); expected redis://host:port");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
    String user = null;
    String password = null;
    String userInfo = uri.getUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      if (colon < 0) {
        password = userInfo;
      } else {
        user = userInfo.substring(0, colon);
        password = userInfo.substring(colon + 1);
      }
      user = user == null || user.isEmpty() ? null : user;
      password = password.isEmpty() ? null : password;
    }
    int database = 0;
    String path = uri.getPath();
    if (path != null && !path.isEmpty() && !path.equals("/")) {
      try {
        database = Integer.parseInt(path.substring(1));
      } catch (NumberFormatException e) {
        database = -1;
      }
      if (database < 0) {
        throw new IllegalArgumentException("'" + redact(url) + "': the path must be a database number, such as /0");
      }
    }
    return new RedisEndpoint(host, port, tls, user, password, database);
  }

  /** @return the URL without its userinfo, such as {@code redis://cache.internal:6379/0}, for messages */
  public String redacted() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return (tls ? "rediss://" : "redis://") + (user == null && password == null ? "" : "***@") + h + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return redacted();
  }

  /** @return {@code url} with whatever may be userinfo (up to the last {@code @}) replaced by {@code ***} */
  public static String redact(String url) {
    int at = url.lastIndexOf('@');
    if (at < 0) {
      return url;
    }
    int scheme = url.indexOf("://");
    int from = scheme >= 0 && scheme < at ? scheme + 3 : 0;
    return url.substring(0, from) + "***" + url.substring(at);
  }
}
