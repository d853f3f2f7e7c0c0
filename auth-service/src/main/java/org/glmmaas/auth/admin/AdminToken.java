package org.glmmaas.auth.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import org.glmmaas.auth.AuthProperties;
import org.glmmaas.auth.crypto.CryptoConfig;
import org.glmmaas.auth.crypto.SecretGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The admin API's own bearer token ({@code glm.auth.admin-token}); tenant API keys never open it.
 * Without configuration one is generated once into {@code glm.auth.data-dir/admin.token} (0600);
 * its path is logged, never its value.
 */
@Component
public class AdminToken {

  private static final Logger log = LoggerFactory.getLogger(AdminToken.class);
  static final int MIN_LENGTH = 16;

  private final byte[] digest;

  public AdminToken(AuthProperties props, SecretGenerator generator) throws IOException {
    String token = props.adminToken();
    if (token == null || token.isBlank()) {
      Path file = props.dataDir().resolve("admin.token");
      token = CryptoConfig.readOrCreate(file, generator::newToken);
      log.info("No glm.auth.admin-token configured: the admin API token is in {} (0600)", file);
    } else if (token.strip().length() < MIN_LENGTH) {
      throw new IllegalStateException(
          "glm.auth.admin-token must be at least " + MIN_LENGTH + " characters");
    }
    this.digest = sha256(token.strip());
  }

  /** Constant-time check (both sides hashed first, so the length does not leak either). */
  boolean matches(String presented) {
    return MessageDigest.isEqual(digest, sha256(presented));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
