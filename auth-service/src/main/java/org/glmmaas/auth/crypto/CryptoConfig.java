package org.glmmaas.auth.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.glmmaas.auth.AuthProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Builds the master keyring from {@code glm.auth.master-keys} or {@code glm.auth.master-key}; with
 * neither, generates one key on first start into {@code glm.auth.data-dir/master.key} (0600) and
 * reuses it afterwards — the embedded default. Never logs a key.
 */
@Configuration(proxyBeanMethods = false)
public class CryptoConfig {

  private static final Logger log = LoggerFactory.getLogger(CryptoConfig.class);

  @Bean
  MasterKeyring masterKeyring(AuthProperties props) throws IOException {
    Map<Integer, byte[]> keys = new LinkedHashMap<>();
    if (!props.masterKeys().isEmpty()) {
      if (props.masterKey() != null && !props.masterKey().isBlank()) {
        throw new IllegalStateException(
            "set either glm.auth.master-key or glm.auth.master-keys, not both");
      }
      for (AuthProperties.MasterKeyVersion v : props.masterKeys()) {
        if (keys.put(v.version(), decode(v.key(), "glm.auth.master-keys version " + v.version()))
            != null) {
          throw new IllegalStateException(
              "glm.auth.master-keys lists version " + v.version() + " twice");
        }
      }
      log.info(
          "Master keys configured: versions {}, current {}",
          keys.keySet(),
          keys.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow());
    } else if (props.masterKey() != null && !props.masterKey().isBlank()) {
      keys.put(1, decode(props.masterKey(), "glm.auth.master-key"));
      log.info("Master key configured (glm.auth.master-key, version 1)");
    } else {
      Path file = props.dataDir().resolve("master.key");
      String b64 = readOrCreate(file, () -> Base64.getEncoder().encodeToString(randomKey()));
      keys.put(1, decode(b64, file.toString()));
      log.info(
          "No glm.auth.master-key configured: using the generated master key kept in {} (0600); "
              + "in production set glm.auth.master-key from a secret",
          file);
    }
    return new MasterKeyring(keys);
  }

  @Bean
  SecretCodec secretCodec(MasterKeyring keyring) {
    return new SecretCodec(keyring);
  }

  @Bean
  SecretGenerator secretGenerator() {
    return new SecretGenerator();
  }

  private static byte[] randomKey() {
    byte[] key = new byte[MasterKeyring.KEY_BYTES];
    new java.security.SecureRandom().nextBytes(key);
    return key;
  }

  private static byte[] decode(String b64, String where) {
    try {
      return Base64.getDecoder().decode(b64.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(where + " is not valid base64 (expected base64 of 32 bytes)");
    }
  }

  /**
   * Reads a one-line secret file, or creates it with owner-only permissions (0600, set at creation
   * so the content is never readable by others, even briefly; its folder 0700). An existing file is
   * used only when this process's user owns it and nobody else may read or write it: one planted or
   * left open by another user is refused.
   */
  public static String readOrCreate(Path file, java.util.function.Supplier<String> generator)
      throws IOException {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      checkPrivate(file);
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }
    createPrivateDirectories(file.getParent());
    String value = generator.get();
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException raced) {
      checkPrivate(file);
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (UnsupportedOperationException notPosix) {
      // A file system without POSIX permissions (e.g. Windows): create it plainly; the data
      // directory's own access control is what protects it there.
      Files.createFile(file);
    }
    Files.writeString(
        file, value + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    return value;
  }

  private static void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    try {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (UnsupportedOperationException notPosix) {
      Files.createDirectories(dir);
    }
  }

  /**
   * @throws IllegalStateException when {@code file} is a link, is owned by another user, or grants
   *     any permission to group or others
   */
  static void checkPrivate(Path file) throws IOException {
    if (Files.isSymbolicLink(file) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalStateException(
          file + " is not a regular file: refusing to read a secret from it");
    }
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException notPosix) {
      return;
    }
    Object owner = uid(file);
    Object me = processUid();
    if (owner != null && me != null && !owner.equals(me)) {
      throw new IllegalStateException(
          file
              + " is owned by uid "
              + owner
              + ", not by this service's user (uid "
              + me
              + "): refusing to use a secret another user could have written; delete it or"
              + " set glm.auth.data-dir to a private folder");
    }
    Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission p : perms) {
      if (!p.name().startsWith("OWNER_")) {
        open.add(p);
      }
    }
    if (!open.isEmpty()) {
      throw new IllegalStateException(
          file
              + " is "
              + PosixFilePermissions.toString(perms)
              + ": others may read or change this secret; chmod 600 it (and rotate the secret)"
              + " or delete it");
    }
  }

  /** This process's uid: the owner of its /proc entry (Linux), else unknown. */
  private static Object processUid() {
    try {
      return Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }

  private static Object uid(Path p) {
    try {
      return Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }
}
