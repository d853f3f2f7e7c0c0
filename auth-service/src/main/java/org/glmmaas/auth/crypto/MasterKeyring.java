package org.glmmaas.auth.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The versioned master keys. Each version yields two sub-keys (HKDF-style, by HMAC with a label),
 * so the master key itself is never used directly: an AES-256 key that encrypts API-key secrets and
 * a pepper that keys their HMAC hashes. The highest version is the current one; older versions are
 * kept only to read rows not yet re-encrypted by a rotation.
 */
public final class MasterKeyring {

  static final int KEY_BYTES = 32;

  private final NavigableMap<Integer, Version> versions;

  /** A master key version's derived sub-keys. */
  record Version(int number, SecretKeySpec encryptionKey, SecretKeySpec pepper) {}

  public MasterKeyring(Map<Integer, byte[]> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("at least one master key is required");
    }
    TreeMap<Integer, Version> map = new TreeMap<>();
    keys.forEach(
        (number, raw) -> {
          if (number < 1) {
            throw new IllegalArgumentException("master key version must be >= 1, was " + number);
          }
          if (raw.length != KEY_BYTES) {
            throw new IllegalArgumentException(
                "master key version "
                    + number
                    + " must be "
                    + KEY_BYTES
                    + " bytes (base64 of 32 random bytes, e.g. `openssl rand -base64 32`), was "
                    + raw.length);
          }
          map.put(
              number,
              new Version(
                  number,
                  new SecretKeySpec(derive(raw, "glm-auth/secret-encryption/v1"), "AES"),
                  new SecretKeySpec(derive(raw, "glm-auth/secret-hash-pepper/v1"), "HmacSHA256")));
        });
    this.versions = Collections.unmodifiableNavigableMap(map);
  }

  /** The version that encrypts new secrets. */
  public int currentVersion() {
    return versions.lastKey();
  }

  public boolean has(int version) {
    return versions.containsKey(version);
  }

  public java.util.Set<Integer> versions() {
    return versions.keySet();
  }

  Version version(int number) {
    Version v = versions.get(number);
    if (v == null) {
      throw new IllegalStateException(
          "master key version "
              + number
              + " is not configured (glm.auth.master-keys); it is needed to read secrets stored under it");
    }
    return v;
  }

  private static byte[] derive(byte[] master, String label) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(master, "HmacSHA256"));
      return mac.doFinal(label.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
