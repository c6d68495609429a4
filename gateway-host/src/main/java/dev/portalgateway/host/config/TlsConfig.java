package dev.portalgateway.host.config;

/**
 * The {@code server.tls:} section: when present, the proxy listener serves HTTPS.
 *
 * @param keystore a PKCS#12 (or JKS) file holding the certificate chain and its private key;
 *     relative paths resolve against the configuration file's folder
 * @param keystorePassword the keystore's password; take it from the environment with {@code ${NAME}}
 * @param keyPassword the private key's password, when it differs from the keystore's
 */
public record TlsConfig(String keystore, String keystorePassword, String keyPassword) {}
