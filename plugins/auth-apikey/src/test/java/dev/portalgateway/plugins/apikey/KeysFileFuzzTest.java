package dev.portalgateway.plugins.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzz target for the keys file, the other YAML the gateway reads: any text is keys that pass
 * every check, or a {@link KeysFileException} with a message; nothing else, since the plugin keeps
 * its previous keys only on that exception. Replayed on
 * {@code src/test/resources/dev/portalgateway/plugins/apikey/KeysFileFuzzTestInputs/keysFile/} by
 * every test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class KeysFileFuzzTest {
  private static Path dir;

  @BeforeAll
  static void makeDir() throws IOException {
    dir = Files.createTempDirectory("keys-fuzz");
  }

  @AfterAll
  static void removeDir() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
    }
    Files.deleteIfExists(dir);
  }

  @FuzzTest
  void keysFile(byte[] input) {
    Path path = dir.resolve("keys.yaml");
    try {
      Files.write(path, input);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    KeysFile file = new KeysFile(path);
    List<StoredKey> keys;
    try {
      keys = file.read();
    } catch (KeysFileException e) {
      assertThat(e.getMessage()).isNotBlank();
      return;
    }
    KeyRing ring = KeyRing.of(keys); // what read() accepted, the ring accepts
    assertThat(ring).isNotNull();
    for (StoredKey key : keys) {
      assertThat(key).isNotNull();
      assertThat(ApiKey.isId(key.id())).isTrue();
      assertThat(key.leases()).isNotEmpty();
    }
  }
}
