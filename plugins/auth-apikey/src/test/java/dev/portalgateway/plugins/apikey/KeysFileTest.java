package dev.portalgateway.plugins.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysFileTest {
  @TempDir
  Path dir;

  @Test
  void writesHashesWithModeSixHundredAndReadsThemBack() throws Exception {
    KeysFile file = new KeysFile(dir.resolve("nested/keys.yaml"));
    TestKeys.Issued a = TestKeys.issue("claude", "mcp", "team-*");
    TestKeys.Issued b = TestKeys.issue("n8n", "*");
    file.update(keys -> List.of(a.stored(), TestKeys.expiringAt(b.stored(), Instant.parse("2027-01-01T00:00:00Z"))));

    String text = Files.readString(file.path());
    assertThat(text).contains(a.stored().hash(), b.stored().hash()).contains("$2a$04$");
    assertThat(text).doesNotContain(a.key().secret(), b.key().secret(), a.text(), b.text());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path()))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path().getParent()))).isEqualTo("rwx------");
    try (var siblings = Files.list(file.path().getParent())) {
      assertThat(siblings.map(p -> p.getFileName().toString())).as("no temporary file left behind")
          .containsExactlyInAnyOrder("keys.yaml", "keys.yaml.lock");
    }

    List<StoredKey> read = file.read();
    assertThat(read).hasSize(2);
    assertThat(read.get(0)).isEqualTo(a.stored());
    assertThat(read.get(1).expires()).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(file.readRing().get(a.key().id()).allowsLease("team-blue")).isTrue();
  }

  @Test
  void aMissingFileHoldsNoKeysButAnEmptyOneIsRefused() throws Exception {
    KeysFile file = new KeysFile(dir.resolve("keys.yaml"));
    assertThat(file.read()).isEmpty();
    assertThat(file.stamp()).isEqualTo(KeysFile.Stamp.ABSENT);
    // Half-written by an editor or a config tool: not "no keys", which would lock everyone out.
    assertRefused(file, "", "the keys file is empty", "previous keys stay in force");
    assertRefused(file, "  \n\n", "the keys file is empty");
    assertRefused(file, "# Portal Gateway API keys\n", "no keys document");
    Files.writeString(file.path(), "version: 1\nkeys: []\n");
    assertThat(file.read()).isEmpty();
  }

  @Test
  void aHandWrittenFileWithTwoBHashesAndCidrsIsRead() throws Exception {
    KeysFile file = new KeysFile(dir.resolve("keys.yaml"));
    String hash = TestKeys.issue("x", "*").stored().hash().replace("$2a$", "$2b$");
    Files.writeString(file.path(), """
        version: 1
        keys:
          - id: handMade0001
            name: by hand
            hash: "%s"
            leases: [billing]
            scopes: [mcp:call]
            cidrs: ["10.0.0.0/8", "2001:db8::/32"]
            expires: 2027-06-01T00:00:00Z
        """.formatted(hash));
    KeyRing ring = file.readRing();
    KeyRing.Entry e = ring.get("handMade0001");
    assertThat(e.key().scopes()).containsExactly("mcp:call");
    assertThat(e.allowsClient(java.net.InetAddress.getByName("10.1.2.3"))).isTrue();
    assertThat(e.allowsClient(java.net.InetAddress.getByName("2001:db8::5"))).isTrue();
    assertThat(e.allowsClient(java.net.InetAddress.getByName("192.0.2.1"))).isFalse();
    assertThat(e.principal().id()).isEqualTo("handMade0001");
    assertThat(e.principal().source()).isEqualTo("auth-apikey");
  }

  @Test
  void badFilesAreRefusedWithTheFileAndTheProblem() throws Exception {
    KeysFile file = new KeysFile(dir.resolve("keys.yaml"));
    String hash = TestKeys.issue("x", "*").stored().hash();
    assertRefused(file, "keys: [ {id: abc", "not a valid keys file", "line");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n    leases: ['*']\n    colour: red\n",
        "colour");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: sk_live_abcdefgh1234_secret\n    leases: ['*']\n",
        "bcrypt hash");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n", "leases is empty");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n    leases: ['*']\n"
        + "  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n    leases: ['*']\n", "same id");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n    leases: ['*']\n    cidrs: [10.0.0.0/33]\n",
        "prefix length");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n    leases: ['*']\n    expires: tomorrow\n",
        "2026-11-26T12:00:00Z");
    assertRefused(file, "version: 2\nkeys: []\n", "version 2");
    assertRefused(file, "keys:\n  - id: abcdefgh1234\n    hash: \"" + hash + "\"\n    leases: ['*']\n    leases: []\n",
        "Duplicate field 'leases'", "line 5");
    assertRefused(file, "version: 1\nkeys: []\nversion: 1\n", "Duplicate field 'version'");
  }

  private static void assertRefused(KeysFile file, String yaml, String... messageParts) throws Exception {
    Files.writeString(file.path(), yaml);
    assertThatThrownBy(file::read).isInstanceOf(KeysFileException.class)
        .hasMessageContaining(file.path().toString()).hasMessageContaining(messageParts[0])
        .satisfies(e -> {
          for (String part : messageParts) {
            assertThat(e.getMessage()).contains(part);
          }
        });
  }

  @Test
  void concurrentUpdatesLoseNoKey() throws Exception {
    KeysFile file = new KeysFile(dir.resolve("keys.yaml"));
    List<TestKeys.Issued> issued = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      issued.add(TestKeys.issue("k" + i, "*"));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (TestKeys.Issued k : issued) {
        done.add(pool.submit(() -> file.update(keys -> {
          List<StoredKey> next = new ArrayList<>(keys);
          next.add(k.stored());
          return next;
        })));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    assertThat(file.read()).extracting(StoredKey::id)
        .containsExactlyInAnyOrderElementsOf(issued.stream().map(k -> k.key().id()).toList());
  }

  @Test
  void anUpdateThatWouldBreakTheFileIsNotWritten() throws Exception {
    KeysFile file = new KeysFile(dir.resolve("keys.yaml"));
    TestKeys.Issued a = TestKeys.issue("a", "*");
    file.update(keys -> List.of(a.stored()));
    String before = Files.readString(file.path());
    assertThatThrownBy(() -> file.update(keys -> List.of(a.stored(), a.stored())))
        .isInstanceOf(KeysFileException.class).hasMessageContaining("same id");
    assertThat(Files.readString(file.path())).isEqualTo(before);
  }

  @Test
  void changesBetweenRingsAreNamed() {
    TestKeys.Issued a = TestKeys.issue("a", "*");
    TestKeys.Issued b = TestKeys.issue("b", "*");
    TestKeys.Issued c = TestKeys.issue("c", "*");
    TestKeys.Issued d = TestKeys.issue("d", "*");
    TestKeys.Issued e = TestKeys.issue("e", "*");
    KeyRing before = KeyRing.of(List.of(a.stored(), b.stored(), d.stored(), e.stored()));
    KeyRing after = KeyRing.of(List.of(a.stored().revokedAt(Instant.now()), c.stored(),
        d.stored().rotatedTo(c.stored().hash(), Instant.now()), TestKeys.withLeases(e.stored(), "mcp")));
    assertThat(before.changesTo(after)).containsOnly(
        java.util.Map.entry(a.key().id(), "revoked"), java.util.Map.entry(b.key().id(), "removed"),
        java.util.Map.entry(c.key().id(), "added"), java.util.Map.entry(d.key().id(), "rotated"),
        java.util.Map.entry(e.key().id(), "changed"));
  }
}
