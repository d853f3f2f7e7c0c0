package org.glmmaas.auth.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Protects API-key secrets at rest: an HMAC-SHA256 under the version's pepper for the raw-key path
 * (compared in constant time), and AES-256-GCM under the version's encryption key for the JWT path,
 * which needs the secret itself. The key id and version are bound in as associated data, so a
 * ciphertext copied onto another row does not decrypt.
 */
public final class SecretCodec {

  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final MasterKeyring keyring;
  private final SecureRandom random = new SecureRandom();
  private final ConcurrentHashMap<Integer, Mac> pepperMacs = new ConcurrentHashMap<>();

  public SecretCodec(MasterKeyring keyring) {
    this.keyring = keyring;
  }

  public MasterKeyring keyring() {
    return keyring;
  }

  /** HMAC-SHA256(pepper of {@code version}, secret). */
  public byte[] hash(String secret, int version) {
    Mac prototype = pepperMacs.computeIfAbsent(version, v -> newMac(keyring.version(v).pepper()));
    return cloneMac(prototype).doFinal(secret.getBytes(StandardCharsets.UTF_8));
  }

  /** Constant-time check of a presented secret against a stored hash. */
  public boolean matches(String presentedSecret, byte[] storedHash, int version) {
    return MessageDigest.isEqual(hash(presentedSecret, version), storedHash);
  }

  /** nonce || AES-GCM(secret) under the current version. */
  public byte[] encrypt(String keyId, String secret, int version) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      random.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.ENCRYPT_MODE,
          keyring.version(version).encryptionKey(),
          new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad(keyId, version));
      byte[] ct = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[NONCE_BYTES + ct.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(ct, 0, out, NONCE_BYTES, ct.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
  }

  /** The secret of a stored row; fails if the ciphertext was altered or moved to another key. */
  public String decrypt(String keyId, byte[] stored, int version) {
    if (stored.length <= NONCE_BYTES) {
      throw new IllegalStateException("stored secret of key " + keyId + " is truncated");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.DECRYPT_MODE,
          keyring.version(version).encryptionKey(),
          new GCMParameterSpec(TAG_BITS, stored, 0, NONCE_BYTES));
      cipher.updateAAD(aad(keyId, version));
      byte[] pt = cipher.doFinal(stored, NONCE_BYTES, stored.length - NONCE_BYTES);
      return new String(pt, StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "stored secret of key "
              + keyId
              + " does not decrypt under master key version "
              + version
              + " (wrong master key?)",
          e);
    }
  }

  private static byte[] aad(String keyId, int version) {
    return ("glm-auth:" + keyId + ":" + version).getBytes(StandardCharsets.UTF_8);
  }

  /** An initialised HMAC-SHA256 keyed with {@code key}; clone it per use with {@link #cloneMac}. */
  public static Mac newMac(SecretKeySpec key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** A fresh copy of an initialised prototype (cheaper than getInstance + init per call). */
  public static Mac cloneMac(Mac prototype) {
    try {
      return (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("HmacSHA256 provider does not support clone", e);
    }
  }
}
