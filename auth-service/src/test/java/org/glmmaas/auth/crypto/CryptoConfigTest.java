package org.glmmaas.auth.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.glmmaas.auth.AuthProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded default: a master key generated once, kept owner-only, reused on the next start. */
class CryptoConfigTest {

  static AuthProperties props(
      Path dir, String masterKey, List<AuthProperties.MasterKeyVersion> keys) {
    return new AuthProperties(null, masterKey, keys, dir, null, null, null, null, null, null);
  }

  @Test
  void generatesTheMasterKeyOnceWithOwnerOnlyPermissionsAndReusesIt(@TempDir Path dir)
      throws Exception {
    SecretCodec first = new SecretCodec(new CryptoConfig().masterKeyring(props(dir, null, null)));
    Path file = dir.resolve("master.key");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    byte[] ct = first.encrypt("kid", "s", 1);
    SecretCodec second = new SecretCodec(new CryptoConfig().masterKeyring(props(dir, null, null)));
    assertThat(second.decrypt("kid", ct, 1)).isEqualTo("s");
  }

  @Test
  void refusesAmbiguousOrInvalidConfiguration(@TempDir Path dir) {
    String k = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    assertThatThrownBy(
            () ->
                new CryptoConfig()
                    .masterKeyring(
                        props(dir, k, List.of(new AuthProperties.MasterKeyVersion(2, k)))))
        .hasMessageContaining("either glm.auth.master-key or glm.auth.master-keys");
    assertThatThrownBy(() -> new CryptoConfig().masterKeyring(props(dir, "not base64!", null)))
        .hasMessageContaining("not valid base64");
    assertThatThrownBy(() -> new CryptoConfig().masterKeyring(props(dir, "c2hvcnQ=", null)))
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(
            () ->
                new CryptoConfig()
                    .masterKeyring(
                        props(
                            dir,
                            null,
                            List.of(
                                new AuthProperties.MasterKeyVersion(1, k),
                                new AuthProperties.MasterKeyVersion(1, k)))))
        .hasMessageContaining("twice");
  }

  /**
   * Run directly, auth kept its master key and admin token in the system temp folder and read an
   * existing file there without checking who wrote it.
   */
  @Test
  void theDefaultDataDirIsTheServicesOwnNotTheTempFolder() {
    Path dir = props(null, null, null).dataDir().toAbsolutePath();
    assertThat(dir.toString())
        .doesNotStartWith(
            Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().toString());
    assertThat(dir.endsWith(Path.of("data", "auth-service"))).as("%s", dir).isTrue();
  }

  @Test
  void aKeyFileOthersCanReadIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("master.key");
    Files.writeString(file, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> new CryptoConfig().masterKeyring(props(dir, null, null)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("master.key is rw-r--r--")
        .hasMessageNotContaining("MDEy");
  }

  @Test
  void aKeyFileOwnedByAnotherUserIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("admin.token");
    Files.writeString(file, "planted-by-someone-else-0123456789\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    try {
      Files.setAttribute(file, "unix:uid", 54321);
    } catch (java.io.IOException | UnsupportedOperationException e) {
      org.junit.jupiter.api.Assumptions.abort("cannot change a file's owner here (not root)");
    }
    assertThatThrownBy(() -> CryptoConfig.readOrCreate(file, () -> "new"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is owned by uid 54321");
  }
}
