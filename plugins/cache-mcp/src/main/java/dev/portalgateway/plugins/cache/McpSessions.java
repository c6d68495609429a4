package dev.portalgateway.plugins.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The MCP sessions this gateway saw start: a successful {@code initialize} whose answer carried an
 * {@code Mcp-Session-Id}, with a fingerprint of what the client declared in it (protocol version,
 * capabilities, client info), which is what a server may tailor its lists to. A session the
 * plugin did not see start (begun on another replica, before a restart, or made up), or that
 * ended ({@code DELETE}, or the server answered 400 or 404 for it), is never answered from the
 * cache: its requests go to the server, whose own status tells the client to start again.
 *
 * <p>Lasting plugin state (it survives configuration reloads), bounded in memory, and a session
 * idle past its limit is forgotten.
 */
final class McpSessions {
  /** Sessions remembered at once; the oldest go first past this. */
  static final long MAX_SESSIONS = 100_000;

  private final Cache<String, String> fingerprints;

  McpSessions(Duration idle) {
    this.fingerprints = Caffeine.newBuilder().maximumSize(MAX_SESSIONS).expireAfterAccess(idle).build();
  }

  /** A session started: its {@code initialize} (canonical params) was answered with this session id. */
  void started(String route, String sessionId, String initializeParams) {
    fingerprints.put(key(route, sessionId), fingerprint(initializeParams));
  }

  /** @return the fingerprint of the session's {@code initialize}, or {@code null} when it is not known here */
  String fingerprint(String route, String sessionId) {
    return fingerprints.getIfPresent(key(route, sessionId));
  }

  /** The session ended (DELETE, or the server no longer knows it). */
  void ended(String route, String sessionId) {
    fingerprints.invalidate(key(route, sessionId));
  }

  long size() {
    return fingerprints.estimatedSize();
  }

  private static String key(String route, String sessionId) {
    return route + '\0' + sessionId;
  }

  /** A short hash of the canonical initialize params: equal declarations, equal fingerprints. */
  static String fingerprint(String canonicalParams) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(canonicalParams.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
