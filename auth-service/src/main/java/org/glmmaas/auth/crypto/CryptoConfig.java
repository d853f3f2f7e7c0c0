package org.glmmaas.auth.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
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
   * so the content is never readable by others, even briefly).
   */
  public static String readOrCreate(Path file, java.util.function.Supplier<String> generator)
      throws IOException {
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }
    Files.createDirectories(file.getParent());
    String value = generator.get();
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException raced) {
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
}
