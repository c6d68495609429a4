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
 @Test
 void processesStartingTogetherAllEndUpWithTheOneIdentityInTheFile() throws Exception {
  // The identity is a lease's or the gateway's name on the relay: two starts racing must not
  // replace each other's key (a rename over an existing file would), or one registers a lease
  // the file no longer holds.
  for (int round = 0; round < 20; round++) {
   Path file = dir.resolve("race-" + round + "/identity.key");
   int racers = 8;
   java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(racers);
   java.util.List<java.util.concurrent.Future<String>> ids = new java.util.ArrayList<>();
   try (var pool = java.util.concurrent.Executors.newFixedThreadPool(racers)) {
    for (int i = 0; i < racers; i++) {
     ids.add(pool.submit(() -> {
      start.await();
      return IdentityFile.loadOrCreate(file).id();
     }));
    }
    String inFile = null;
    for (var id : ids) {
     String got = id.get(10, java.util.concurrent.TimeUnit.SECONDS);
     inFile = inFile == null ? IdentityFile.loadOrCreate(file).id() : inFile;
     assertThat(got).as("round %d", round).isEqualTo(inFile);
    }
   }
   assertThat(Files.list(file.getParent())).containsExactly(file);
  }
 }
}
