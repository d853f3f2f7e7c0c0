package org.glmmaas.gateway.files;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/** File ids: {@code file-} and 24 random letters and digits; nothing else ever reaches a path. */
final class FileIds {

  private static final Pattern ID = Pattern.compile("file-[A-Za-z0-9]{1,64}");
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private FileIds() {}

  static String next() {
    StringBuilder b = new StringBuilder("file-");
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
      throw new IllegalArgumentException("not a file id");
    }
    return id;
  }
}
