package org.glmmaas.worker.chat;

import java.security.SecureRandom;

/** Tool-call ids: "call_" and 24 random alphanumerics. */
final class CallIds {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private CallIds() {}

  static String next() {
    StringBuilder sb = new StringBuilder("call_");
    for (int i = 0; i < 24; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }
}
