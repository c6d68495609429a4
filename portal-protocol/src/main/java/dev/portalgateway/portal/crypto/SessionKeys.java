package dev.portalgateway.portal.crypto;

import java.nio.charset.StandardCharsets;

/**
 * The two ChaCha20-Poly1305 keys of one E2EE session, one per direction.
 *
 * @param clientToServer the key the client encrypts with and the server decrypts with
 * @param serverToClient the key the server encrypts with and the client decrypts with
 */
public record SessionKeys(byte[] clientToServer, byte[] serverToClient) {
  private static final byte[] CLIENT_INFO = "RDSEC_KEY_CLIENT".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SERVER_INFO = "RDSEC_KEY_SERVER".getBytes(StandardCharsets.US_ASCII);
  private static final int KEY_LENGTH = 32;

  public SessionKeys {
    clientToServer = clientToServer.clone();
    serverToClient = serverToClient.clone();
  }

  @Override
  public byte[] clientToServer() {
    return clientToServer.clone();
  }

  @Override
  public byte[] serverToClient() {
    return serverToClient.clone();
  }

  /**
   * Derives both keys from the X25519 shared secret. Each direction salts HKDF with its sender's
   * nonce first, so the two keys differ even though both sides share one secret.
   */
  public static SessionKeys derive(byte[] sharedSecret, byte[] clientNonce, byte[] serverNonce) {
    byte[] clientFirst = concat(clientNonce, serverNonce);
    byte[] serverFirst = concat(serverNonce, clientNonce);
    return new SessionKeys(
        Hkdf.derive(sharedSecret, clientFirst, CLIENT_INFO, KEY_LENGTH),
        Hkdf.derive(sharedSecret, serverFirst, SERVER_INFO, KEY_LENGTH));
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] joined = new byte[first.length + second.length];
    System.arraycopy(first, 0, joined, 0, first.length);
    System.arraycopy(second, 0, joined, first.length, second.length);
    return joined;
  }

  @Override
  public String toString() {
    // Never print key material.
    return "SessionKeys[redacted]";
  }
}
