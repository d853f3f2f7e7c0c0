package org.glmmaas.worker.kvcache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The identity of a full block of tokens in the prefix cache: SHA-256 (first 128 bits) over the
 * previous block's hash and this block's token ids. The first block's "previous hash" is derived
 * from a salt (the tenant id), so two tenants never share a cached block.
 */
public record BlockHash(long hi, long lo) {

  /** The root of a chain for this salt (tenant). */
  public static BlockHash root(String salt) {
    MessageDigest md = sha256();
    md.update("glm-kv-prefix-v1:".getBytes(StandardCharsets.UTF_8));
    md.update((salt == null ? "" : salt).getBytes(StandardCharsets.UTF_8));
    return of(md.digest());
  }

  /** The hash of tokens[from, from + count) chained after {@code parent}. */
  public static BlockHash chain(BlockHash parent, int[] tokens, int from, int count) {
    MessageDigest md = sha256();
    ByteBuffer buf = ByteBuffer.allocate(16 + 4 * count);
    buf.putLong(parent.hi).putLong(parent.lo);
    for (int i = 0; i < count; i++) {
      buf.putInt(tokens[from + i]);
    }
    md.update(buf.array());
    return of(md.digest());
  }

  private static BlockHash of(byte[] d) {
    ByteBuffer b = ByteBuffer.wrap(d);
    return new BlockHash(b.getLong(), b.getLong());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
