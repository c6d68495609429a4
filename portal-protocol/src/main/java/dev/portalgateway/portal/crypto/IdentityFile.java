package dev.portalgateway.portal.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * A peer's long-term identity kept in a file: the 32-byte Ed25519 seed as hex, readable by the
 * owner only. Created on first use, so a gateway (or a tunnel) keeps the same ID across restarts
 * and services behind the relay see a stable client ID.
 */
public final class IdentityFile {
 private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

 private IdentityFile() {}

 /**
 * @param file where the seed lives
 * @return the identity in {@code file}, created with a fresh random seed when the file does not exist
 * @throws IOException when the file cannot be read or written, or does not hold a 32-byte hex seed
 */
 public static PortalIdentity loadOrCreate(Path file) throws IOException {
  if (Files.exists(file)) {
   return load(file);
  }
  byte[] seed = new byte[PortalIdentity.PUBLIC_KEY_LENGTH];
  new SecureRandom().nextBytes(seed);
  Path dir = file.toAbsolutePath().getParent();
  Files.createDirectories(dir);
  // Written to a private temporary file and moved into place, so the seed is never readable
  // by others, and a crash never leaves half a key behind.
  Path tmp = Files.createTempFile(dir, ".identity", ".tmp");
  try {
   restrict(tmp);
   Files.writeString(tmp, HexFormat.of().formatHex(seed) + "\n", StandardCharsets.US_ASCII);
   // Create-new, never replace: a rename would silently put our key over one that a process
   // starting at the same moment created (and already registered a lease with). A hard link
   // makes the whole file appear at once, or fails if the name exists.
   try {
    Files.createLink(file, tmp);
   } catch (FileAlreadyExistsException raced) {
    return load(file); // another process created it first: use theirs
   } catch (UnsupportedOperationException | IOException noLinks) {
    if (Files.exists(file)) {
     return load(file);
    }
    if (!createNew(file, seed)) {
     return load(file);
    }
   }
  } finally {
   Files.deleteIfExists(tmp);
  }
  return PortalIdentity.fromSeed(seed);
 }

 /**
  * Writes the seed to a file that must not exist yet, owner-only from the start: for a file
  * system without hard links.
  *
  * @return whether this call created it (else another process did first)
  */
 private static boolean createNew(Path file, byte[] seed) throws IOException {
  try {
   try {
    Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
   } catch (UnsupportedOperationException notPosix) {
    Files.createFile(file);
   }
  } catch (FileAlreadyExistsException raced) {
   return false;
  }
  Files.writeString(file, HexFormat.of().formatHex(seed) + "\n", StandardCharsets.US_ASCII);
  return true;
 }

 private static PortalIdentity load(Path file) throws IOException {
  String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
  byte[] seed;
  try {
   seed = HexFormat.of().parseHex(text);
  } catch (IllegalArgumentException e) {
   throw new IOException(file + " does not hold a hex Ed25519 seed; remove it to create a new identity "
     + "(services will see a new client ID)");
  }
  if (seed.length != PortalIdentity.PUBLIC_KEY_LENGTH) {
   throw new IOException(file + " holds " + seed.length + " bytes, not a 32-byte Ed25519 seed; remove it to "
     + "create a new identity (services will see a new client ID)");
  }
  return PortalIdentity.fromSeed(seed);
 }

 private static void restrict(Path file) throws IOException {
  try {
   Files.setPosixFilePermissions(file, OWNER_ONLY);
  } catch (UnsupportedOperationException notPosix) {
   // A file system without POSIX permissions: the directory's own protection applies.
  }
 }
}
