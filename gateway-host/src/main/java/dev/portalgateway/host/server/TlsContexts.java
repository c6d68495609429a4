package dev.portalgateway.host.server;

import dev.portalgateway.host.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** Builds the server's TLS context from a keystore file. */
public final class TlsContexts {
  private TlsContexts() {}

  /**
   * @param keystore the keystore file (PKCS#12 or JKS, detected from its content)
   * @param storePassword its password
   * @param keyPassword the key's password, or {@code null} for the store's
   * @return a server TLS context
   * @throws ConfigException naming {@code server.tls} and what is wrong, never the password
   */
  public static SSLContext fromKeystore(Path keystore, String storePassword, String keyPassword) throws ConfigException {
    char[] store = storePassword == null ? new char[0] : storePassword.toCharArray();
    char[] key = keyPassword == null ? store : keyPassword.toCharArray();
    if (!Files.isRegularFile(keystore)) {
      throw new ConfigException("server.tls.keystore: " + keystore + " does not exist");
    }
    try {
      KeyStore ks = KeyStore.getInstance(keystore.toFile(), store);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, key);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      return context;
    } catch (IOException e) {
      throw new ConfigException("server.tls.keystore: cannot read " + keystore
          + " (wrong server.tls.keystore_password, or not a PKCS#12/JKS file): " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new ConfigException("server.tls: cannot use the key in " + keystore + ": " + e.getMessage()
          + " (check server.tls.key_password)");
    }
  }
}
