package org.glmmaas.auth.crypto;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Key ids and secrets in BigModel's shape: {@code <32 hex id>.<secret>}; the secret never holds a
 * '.'.
 */
public final class SecretGenerator {

  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  /** 32 base62 characters: about 190 bits. */
  public static final int SECRET_LENGTH = 32;

  private final SecureRandom random = new SecureRandom();

  public String newKeyId() {
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  public String newSecret() {
    StringBuilder sb = new StringBuilder(SECRET_LENGTH);
    for (int i = 0; i < SECRET_LENGTH; i++) {
      sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  /** A random URL-safe token (admin token default). */
  public String newToken() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
