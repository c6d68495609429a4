package dev.portalgateway.portal.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityFileTest {
 @TempDir
 Path dir;

 @Test
 void theFirstUseCreatesAnOwnerOnlyFileAndLaterUsesKeepTheSameId() throws IOException {
  Path file = dir.resolve("data/portal/identity.key");
  PortalIdentity first = IdentityFile.loadOrCreate(file);
  PortalIdentity again = IdentityFile.loadOrCreate(file);
  assertThat(again.id()).isEqualTo(first.id()).hasSize(26);
  assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
  assertThat(Files.list(file.getParent())).containsExactly(file);
 }

 @Test
 void aKnownSeedGivesTheVectorsId() throws IOException {
  Path file = dir.resolve("identity.key");
  Files.writeString(file, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n");
  assertThat(IdentityFile.loadOrCreate(file).id()).isEqualTo("KWQTMLOWWNPHRMNF5NB7Q2UUTA");
 }

 @Test
 void aDamagedFileIsAnErrorThatSaysWhatToDo() throws IOException {
  Path file = dir.resolve("identity.key");
  Files.writeString(file, "not hex");
  assertThatThrownBy(() -> IdentityFile.loadOrCreate(file)).isInstanceOf(IOException.class)
    .hasMessageContaining("remove it");
  Files.writeString(file, "0102");
  assertThatThrownBy(() -> IdentityFile.loadOrCreate(file)).hasMessageContaining("32-byte");
 }
}
