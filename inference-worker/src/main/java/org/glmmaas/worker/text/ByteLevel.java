package org.glmmaas.worker.text;

/**
 * GPT-2's byte-to-unicode table: every byte is written as one printable code point in byte-level
 * BPE vocabularies (a space is "Ġ", a newline "Ċ").
 */
final class ByteLevel {

  private static final int[] BYTE_TO_CP = new int[256];
  private static final int[] CP_TO_BYTE = new int[512];

  static {
    java.util.Arrays.fill(CP_TO_BYTE, -1);
    boolean[] direct = new boolean[256];
    for (int b = 0x21; b <= 0x7E; b++) {
      direct[b] = true;
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      direct[b] = true;
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      direct[b] = true;
    }
    int n = 0;
    for (int b = 0; b < 256; b++) {
      int cp = direct[b] ? b : 256 + n++;
      BYTE_TO_CP[b] = cp;
      CP_TO_BYTE[cp] = b;
    }
  }

  private ByteLevel() {}

  /** The code point that stands for this byte. */
  static int encode(int b) {
    return BYTE_TO_CP[b & 0xFF];
  }

  /** The byte a code point stands for, or -1 when it stands for none. */
  static int decode(int cp) {
    return cp >= 0 && cp < CP_TO_BYTE.length ? CP_TO_BYTE[cp] : -1;
  }

  /** The byte-level string of one byte. */
  static String encodeByte(int b) {
    return Character.toString(encode(b));
  }
}
