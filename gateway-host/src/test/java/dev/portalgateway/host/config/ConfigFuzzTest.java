package dev.portalgateway.host.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Fuzz target for configuration loading: YAML text through {@link ConfigLoader#fromText} (the
 * YAML parse with duplicate keys refused, environment substitution, binding with
 * {@link ConfigBinder}, validation), exactly as startup, {@code validate-config} and every reload
 * run it. Host names in the listeners are checked but not looked up, so fuzzing sends no DNS
 * query. Replayed on
 * {@code src/test/resources/dev/portalgateway/host/config/ConfigFuzzTestInputs/gatewayYaml/} by
 * every test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class ConfigFuzzTest {
  private static final Map<String, String> ENV = Map.of(
      "PORT", "8080", "EMPTY", "", "TOKEN", "0123456789abcdef0123", "TIMEOUT", "30s", "FLAG", "true",
      "YAML", "{a: [b, c]}\n- x: ${PORT}");

  /**
   * Any text as a configuration file: a configuration that passed validation, or a
   * {@link ConfigException} with a message saying why; nothing else (no other exception, no
   * overflow, no hang), and the same answer every time.
   */
  @FuzzTest
  void gatewayYaml(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    ConfigLoader loader = new ConfigLoader(ENV::get, Path.of("/nonexistent/plugins"), false);
    String first = load(loader, text);
    assertThat(load(loader, text)).isEqualTo(first);
  }

  private static String load(ConfigLoader loader, String text) {
    try {
      ConfigLoader.LoadedConfig loaded = loader.fromText(text, null);
      GatewayConfig c = loaded.config();
      assertThat(c.server().maxHeaderBytes()).isGreaterThanOrEqualTo(256);
      assertThat(c.server().maxBodyBytes()).isPositive();
      assertThat(c.server().requestReadTimeout().isNegative()).isFalse();
      assertThat(loaded.fingerprint()).hasSize(64);
      return "loaded " + c;
    } catch (ConfigException e) {
      assertThat(e.getMessage()).isNotBlank();
      return "refused " + e.getMessage();
    }
  }
}
