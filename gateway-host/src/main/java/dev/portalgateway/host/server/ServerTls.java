package dev.portalgateway.host.server;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The proxy listener's TLS: TLS 1.3 only by default, or TLS 1.2 as well with ECDHE key exchange
 * and AEAD ciphers only (no CBC, no SHA-1 MACs, no RSA or DHE key exchange); and a certificate that
 * is read again when its keystore file changes, so a renewed certificate needs no restart: new
 * handshakes use it, connections already open keep theirs.
 */
public final class ServerTls {
  static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256");
  static final List<String> TLS12_SUITES = List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private final Path keystore;
  private final String storePassword;
  private final String keyPassword;
  private final SwappableKeyManager keys;
  private final SSLContext context;
  private final SSLParameters parameters;
  private volatile Object stamp;

  private ServerTls(Path keystore, String storePassword, String keyPassword, String minVersion) throws ConfigException {
    this.keystore = keystore;
    this.storePassword = storePassword;
    this.keyPassword = keyPassword;
    this.keys = new SwappableKeyManager(load());
    this.stamp = stampOf(keystore);
    try {
      context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keys}, null, null);
    } catch (GeneralSecurityException e) {
      throw new ConfigException("server.tls: cannot set up TLS: " + e.getMessage());
    }
    boolean with12 = minVersion.equals("1.2");
    parameters = context.getDefaultSSLParameters();
    parameters.setProtocols(with12 ? new String[] {"TLSv1.3", "TLSv1.2"} : new String[] {"TLSv1.3"});
    List<String> supported = Arrays.asList(context.getSupportedSSLParameters().getCipherSuites());
    parameters.setCipherSuites(java.util.stream.Stream.concat(TLS13_SUITES.stream(),
        with12 ? TLS12_SUITES.stream() : java.util.stream.Stream.empty()).filter(supported::contains).toArray(String[]::new));
    parameters.setUseCipherSuitesOrder(true);
  }

  /**
   * @param minVersion {@code 1.3} or {@code 1.2}
   * @throws ConfigException naming {@code server.tls} and what is wrong, never a password
   */
  public static ServerTls load(Path keystore, String storePassword, String keyPassword, String minVersion) throws ConfigException {
    if (!minVersion.equals("1.3") && !minVersion.equals("1.2")) {
      throw new ConfigException("server.tls.min_version: must be 1.3 or 1.2, not '" + minVersion + "'");
    }
    return new ServerTls(keystore, storePassword, keyPassword, minVersion);
  }

  /** @return what the listeners are configured with */
  HttpsConfigurator configurator() {
    SSLParameters p = parameters;
    return new HttpsConfigurator(context) {
      @Override
      public void configure(HttpsParameters params) {
        params.setSSLParameters(p);
      }
    };
  }

  /** Reads the keystore again if its file changed; a file that does not load leaves the current certificate. */
  void reloadIfChanged() {
    Object now = stampOf(keystore);
    if (now == null || now.equals(stamp)) {
      return;
    }
    try {
      keys.swap(load());
      stamp = now;
      JsonLog.info("tls", "TLS certificate reloaded", "keystore", keystore.toString());
    } catch (ConfigException e) {
      // Tried again at the next check, in case it was caught half-written.
      JsonLog.error("tls", "the changed keystore was not loaded; the current certificate stays", "keystore",
          keystore.toString(), "error", e.getMessage());
    }
  }

  private X509ExtendedKeyManager load() throws ConfigException {
    char[] store = storePassword == null ? new char[0] : storePassword.toCharArray();
    char[] key = keyPassword == null ? store : keyPassword.toCharArray();
    if (!Files.isRegularFile(keystore)) {
      throw new ConfigException("server.tls.keystore: " + keystore + " does not exist");
    }
    try {
      KeyStore ks = KeyStore.getInstance(keystore.toFile(), store);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, key);
      for (KeyManager m : kmf.getKeyManagers()) {
        if (m instanceof X509ExtendedKeyManager x) {
          return x;
        }
      }
      throw new ConfigException("server.tls.keystore: " + keystore + " holds no X.509 key");
    } catch (IOException e) {
      throw new ConfigException("server.tls.keystore: cannot read " + keystore
          + " (wrong server.tls.keystore_password, or not a PKCS#12/JKS file): " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new ConfigException("server.tls: cannot use the key in " + keystore + ": " + e.getMessage()
          + " (check server.tls.key_password)");
    }
  }

  private static Object stampOf(Path file) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
    } catch (IOException e) {
      return null;
    }
  }

  /** A key manager whose keys can be replaced while handshakes go on. */
  private static final class SwappableKeyManager extends X509ExtendedKeyManager {
    private volatile X509ExtendedKeyManager current;

    SwappableKeyManager(X509ExtendedKeyManager first) {
      this.current = first;
    }

    void swap(X509ExtendedKeyManager next) {
      current = next;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return current.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return current.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return current.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return current.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return current.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return current.getPrivateKey(alias);
    }
  }
}
