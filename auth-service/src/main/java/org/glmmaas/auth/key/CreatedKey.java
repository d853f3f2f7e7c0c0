package org.glmmaas.auth.key;

/**
 * A key just created or rotated, with its secret: the only moment the secret exists outside the
 * codec.
 */
public record CreatedKey(ApiKey key, String secret) {

  /** {@code <id>.<secret>}, what a client puts in {@code Authorization: Bearer}. */
  public String apiKey() {
    return key.id() + "." + secret;
  }

  @Override
  public String toString() {
    return "CreatedKey[" + key.id() + "]";
  }
}
