package org.glmmaas.auth.key;

/** The protected secret columns of one key. */
public record StoredSecret(byte[] hash, byte[] ciphertext, int masterKeyVersion) {

  @Override
  public String toString() {
    return "StoredSecret[v" + masterKeyVersion + "]";
  }
}
