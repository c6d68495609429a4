package dev.portalgateway.plugins.apikey;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The YAML file of keys: read by the gateway, changed by the key commands. Every write goes to a
 * temporary file with mode 0600 next to it, is synced, then renamed over the old file, so a
 * reader sees the old file or the new one and never half of one. Read-modify-write cycles hold
 * a lock on a {@code .lock} file beside it, so two commands run at once cannot lose a key.
 */
final class KeysFile {
  /** The document: a format version and the keys. */
  record Document(Integer version, List<StoredKey> keys) {
    Document {
      version = version == null ? 1 : version;
      keys = keys == null ? List.of() : List.copyOf(keys);
    }
  }

  /** What identifies a version of the file on disk, so the watcher reads it only when it changed. */
  record Stamp(FileTime modified, long size, Object fileKey) {
    static final Stamp ABSENT = new Stamp(FileTime.fromMillis(0), -1, null);
  }

  private static final String HEADER = """
      # Portal Gateway API keys (plugin auth-apikey).
      # Holds bcrypt hashes only, never keys: a key is shown once, by add-key or rotate-key.
      # Change it with add-key, revoke-key and rotate-key, or edit it by hand; the gateway reloads it.
      """;
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private static final YAMLMapper YAML = YAMLMapper.builder(YAMLFactory.builder()
          // A key listed twice, or a field twice in one key, is an edit gone wrong, not a choice.
          .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
          .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
          .build())
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .serializationInclusion(JsonInclude.Include.NON_NULL)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .addModule(new SimpleModule("instants")
          .addSerializer(Instant.class, ToStringSerializer.instance)
          .addDeserializer(Instant.class, new InstantText()))
      .build();

  private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS_LOCKS = new ConcurrentHashMap<>();

  private final Path path;

  /** @param path where the keys file is */
  KeysFile(Path path) {
    this.path = path.toAbsolutePath().normalize();
  }

  /** @return the file's path */
  Path path() {
    return path;
  }

  /** @return the stamp of the file as it is now; {@link Stamp#ABSENT} when there is none */
  Stamp stamp() throws IOException {
    try {
      var attrs = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class);
      return new Stamp(attrs.lastModifiedTime(), attrs.size(), attrs.fileKey());
    } catch (NoSuchFileException e) {
      return Stamp.ABSENT;
    }
  }

  /**
   * @return the keys; none when the file does not exist yet
   * @throws KeysFileException when the file cannot be read or is not a valid keys file
   */
  List<StoredKey> read() throws KeysFileException {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new KeysFileException(path + ": cannot read the keys file: " + e.getMessage(), e);
    }
    if (text.isBlank()) {
      // An editor or a tool can leave the file empty for a moment while it writes: never read that
      // as "no keys", which would lock everyone out. Removing every key is "keys: []".
      throw new KeysFileException(path + ": the keys file is empty; the previous keys stay in force (to remove every "
          + "key, write 'version: 1' and 'keys: []', or delete the file)", null);
    }
    Document doc;
    try {
      doc = YAML.readValue(text, Document.class);
    } catch (JsonProcessingException e) {
      if (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("No content to map")) {
        doc = null; // comments only: said below
      } else {
        throw new KeysFileException(path + ": not a valid keys file: " + e.getOriginalMessage() + location(e), e);
      }
    }
    if (doc == null) {
      throw new KeysFileException(path + ": the keys file holds no keys document (only comments); the previous keys stay "
          + "in force (to remove every key, write 'version: 1' and 'keys: []', or delete the file)", null);
    }
    if (doc.version() != 1) {
      throw new KeysFileException(path + ": version " + doc.version() + " is not a keys file version this plugin knows (1)", null);
    }
    try {
      KeyRing.of(doc.keys());
    } catch (IllegalArgumentException e) {
      throw new KeysFileException(path + ": " + e.getMessage(), e);
    }
    return doc.keys();
  }

  /** @return the keys, checked and indexed */
  KeyRing readRing() throws KeysFileException {
    return KeyRing.of(read());
  }

  /**
   * Reads the keys, applies {@code change} and writes the result if it differs, holding the lock throughout.
   *
   * @return the keys as written
   */
  List<StoredKey> update(UnaryOperator<List<StoredKey>> change) throws KeysFileException {
    try {
      Path dir = Objects.requireNonNull(path.getParent());
      createPrivateDirectories(dir);
      Path lockFile = dir.resolve(path.getFileName() + ".lock");
      // A file lock keeps other processes out; it is held per JVM, so threads here queue on their own lock.
      ReentrantLock inProcess = IN_PROCESS_LOCKS.computeIfAbsent(path, p -> new ReentrantLock());
      inProcess.lock();
      try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
           FileLock ignored = lockChannel.lock()) {
        List<StoredKey> current = read();
        List<StoredKey> next = change.apply(current);
        if (next.equals(current)) {
          return current; // nothing changed: leave the file (and its readers) alone
        }
        KeyRing.of(next); // never write a file the gateway would refuse
        write(next);
        return next;
      } finally {
        inProcess.unlock();
      }
    } catch (IllegalArgumentException e) {
      throw new KeysFileException(path + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new KeysFileException(path + ": cannot write the keys file: " + e.getMessage(), e);
    }
  }

  private void write(List<StoredKey> keys) throws IOException {
    String text = HEADER + YAML.writeValueAsString(new Document(1, keys));
    Path dir = path.getParent();
    Path tmp = dir.resolve("." + path.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    Files.deleteIfExists(tmp);
    if (isPosix(dir)) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } else {
      Files.createFile(tmp);
    }
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      try {
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** @return whether others than the owner may read the file (a warning, not an error) */
  boolean readableByOthers() {
    try {
      if (!isPosix(path.getParent()) || !Files.exists(path)) {
        return false;
      }
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(path);
      return p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ);
    } catch (IOException e) {
      return false;
    }
  }

  private static void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    createPrivateDirectories(Objects.requireNonNull(dir.getParent()));
    try {
      if (isPosix(dir.getParent())) {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectory(dir);
      }
    } catch (FileAlreadyExistsException e) {
      // made by someone else meanwhile: fine
    }
  }

  private static boolean isPosix(Path dir) {
    return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
  }

  /** Reads an ISO-8601 instant such as {@code 2026-11-26T12:00:00Z}, with a message that says so. */
  private static final class InstantText extends JsonDeserializer<Instant> {
    @Override
    public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      String text = p.getValueAsString();
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException | NullPointerException e) {
        return (Instant) ctxt.handleWeirdStringValue(Instant.class, text,
            "not a UTC time such as 2026-11-26T12:00:00Z");
      }
    }
  }
}
