package dev.portalgateway.host.config;

import java.time.Duration;

/**
 * The {@code server.tls:} section: when present, the proxy listener serves HTTPS.
 *
 * @param keystore a PKCS#12 (or JKS) file holding the certificate chain and its private key;
 *     relative paths resolve against the configuration file's folder
 * @param keystorePassword the keystore's password; take it from the environment with {@code ${NAME}}
 * @param keyPassword the private key's password, when it differs from the keystore's
 * @param minVersion {@code 1.3} (the default: TLS 1.3 only) or {@code 1.2} (TLS 1.2 too, with
 *     ECDHE key exchange and AEAD ciphers only), for older clients
 * @param reloadInterval how often the keystore file is checked for a renewed certificate; 0 never
 * @param hstsMaxAge when set, answers carry {@code Strict-Transport-Security} with this max-age
 */
public record TlsConfig(String keystore, String keystorePassword, String keyPassword, String minVersion,
    Duration reloadInterval, Duration hstsMaxAge) {
  public TlsConfig {
    minVersion = minVersion == null ? "1.3" : minVersion.strip();
    reloadInterval = reloadInterval == null ? Duration.ofMinutes(1) : reloadInterval;
  }

  @Override
  public String toString() {
    return "TlsConfig[" + keystore + ", min " + minVersion + "]"; // never the passwords
  }
}
