package org.glmmaas.worker.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The code point categories llama.cpp's pre-tokenizers use ({@code \p{L}}, {@code \p{N}}, {@code
 * \s}), loaded from the table llama.cpp generated ({@code llama-unicode-categories.txt}). Java's
 * {@link Character} classes differ from it in corner cases (e.g. U+0085 and U+00A0 are whitespace
 * here), so the table, not Java, decides.
 */
final class LlamaUnicode {

  static final int NUMBER = 1;
  static final int LETTER = 2;
  static final int WHITESPACE = 4;

  /** Number of code points (U+0000..U+10FFFF). */
  static final int MAX_CODE_POINTS = 0x110000;

  private static final byte[] FLAGS = load();

  private LlamaUnicode() {}

  /** The flags of a code point; 0 for code points outside Unicode. */
  static int flags(int cp) {
    return cp >= 0 && cp < MAX_CODE_POINTS ? FLAGS[cp] : 0;
  }

  static boolean isLetter(int cp) {
    return (flags(cp) & LETTER) != 0;
  }

  static boolean isNumber(int cp) {
    return (flags(cp) & NUMBER) != 0;
  }

  static boolean isWhitespace(int cp) {
    return (flags(cp) & WHITESPACE) != 0;
  }

  private static byte[] load() {
    byte[] flags = new byte[MAX_CODE_POINTS];
    try (InputStream in = LlamaUnicode.class.getResourceAsStream("llama-unicode-categories.txt")) {
      if (in == null) {
        throw new IllegalStateException("llama-unicode-categories.txt missing from the classpath");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      int prevStart = -1;
      int prevFlag = 0;
      int[] whitespace = new int[0];
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] parts = line.trim().split(" ");
        if (parts[0].equals("whitespace")) {
          whitespace = new int[parts.length - 1];
          for (int i = 1; i < parts.length; i++) {
            whitespace[i - 1] = Integer.parseInt(parts[i], 16);
          }
          continue;
        }
        int start = Integer.parseInt(parts[0], 16);
        int flag = Integer.parseInt(parts[1]);
        if (prevStart >= 0) {
          java.util.Arrays.fill(
              flags, prevStart, Math.min(start, MAX_CODE_POINTS), (byte) prevFlag);
        }
        prevStart = start;
        prevFlag = flag;
      }
      for (int cp : whitespace) {
        flags[cp] |= WHITESPACE;
      }
      return flags;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
