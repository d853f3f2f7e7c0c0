package org.glmmaas.gateway.batch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Batch ids ({@code batch_} and 24 letters and digits; nothing else ever reaches a path) and the
 * request id of each line, derived from (batch id, custom_id) so a line re-run after any restart
 * carries the same usage idempotency key.
 */
public final class BatchIds {

  private static final Pattern ID = Pattern.compile("batch_[A-Za-z0-9]{1,64}");
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private BatchIds() {}

  static String next() {
    StringBuilder b = new StringBuilder("batch_");
    for (int i = 0; i < 24; i++) {
      b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }

  static boolean valid(String id) {
    return id != null && ID.matcher(id).matches();
  }

  static String check(String id) {
    if (!valid(id)) {
      throw new IllegalArgumentException("not a batch id");
    }
    return id;
  }

  /**
   * The request id of line {@code customId} of {@code batchId}: the batch id and 32 hex digits of
   * the custom_id's SHA-256 (custom_ids are arbitrary text; the id must stay short and printable).
   */
  public static String requestId(String batchId, String customId) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256").digest(customId.getBytes(StandardCharsets.UTF_8));
      return batchId + "-" + HexFormat.of().formatHex(h, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
