package org.glmmaas.worker.grammar;

/**
 * The bytes of a JSON string body (RFC 8259) as a DFA over UTF-8: states are the partial-character
 * states between two bytes; {@link #CLEAN} is "between characters". Only well-formed UTF-8 and the
 * JSON escapes pass; raw control characters do not.
 */
final class JsonStringDfa {

  static final int CLEAN = 0;
  static final int STATES = 13;
  private static final int ESC = 1;
  private static final int U0 = 2; // after backslash-u, then U1..U3 after each hex digit
  private static final int N1 = 6; // continuation bytes still needed: 1, 2, 3
  private static final int N2 = 7;
  private static final int N3 = 8;
  private static final int XE0 = 9; // after E0: A0-BF, then N1
  private static final int XED = 10; // after ED: 80-9F, then N1
  private static final int XF0 = 11; // after F0: 90-BF, then N2
  private static final int XF4 = 12; // after F4: 80-8F, then N2

  /** Transition result: the string closed (the byte was the closing quote). */
  static final int CLOSE = -2;

  static final int DEAD = -1;

  /** Results >= 0: {@code newState | CHAR_DONE} when a character completed with this byte. */
  static final int CHAR_DONE = 1 << 8;

  private static final int[] TABLE = new int[STATES * 256];

  static {
    java.util.Arrays.fill(TABLE, DEAD);
    for (int b = 0x20; b < 0x80; b++) {
      TABLE[CLEAN * 256 + b] = CLEAN | CHAR_DONE;
    }
    TABLE[CLEAN * 256 + '"'] = CLOSE;
    TABLE[CLEAN * 256 + '\\'] = ESC;
    for (int b = 0xC2; b <= 0xDF; b++) {
      TABLE[CLEAN * 256 + b] = N1;
    }
    TABLE[CLEAN * 256 + 0xE0] = XE0;
    for (int b = 0xE1; b <= 0xEF; b++) {
      TABLE[CLEAN * 256 + b] = b == 0xED ? XED : N2;
    }
    TABLE[CLEAN * 256 + 0xF0] = XF0;
    for (int b = 0xF1; b <= 0xF3; b++) {
      TABLE[CLEAN * 256 + b] = N3;
    }
    TABLE[CLEAN * 256 + 0xF4] = XF4;
    for (char c : "\"\\/bfnrt".toCharArray()) {
      TABLE[ESC * 256 + c] = CLEAN | CHAR_DONE;
    }
    TABLE[ESC * 256 + 'u'] = U0;
    for (int s = U0; s <= U0 + 3; s++) {
      int next = s == U0 + 3 ? CLEAN | CHAR_DONE : s + 1;
      for (char c : "0123456789abcdefABCDEF".toCharArray()) {
        TABLE[s * 256 + c] = next;
      }
    }
    for (int b = 0x80; b <= 0xBF; b++) {
      TABLE[N1 * 256 + b] = CLEAN | CHAR_DONE;
      TABLE[N2 * 256 + b] = N1;
      TABLE[N3 * 256 + b] = N2;
    }
    for (int b = 0xA0; b <= 0xBF; b++) {
      TABLE[XE0 * 256 + b] = N1;
    }
    for (int b = 0x80; b <= 0x9F; b++) {
      TABLE[XED * 256 + b] = N1;
    }
    for (int b = 0x90; b <= 0xBF; b++) {
      TABLE[XF0 * 256 + b] = N2;
    }
    for (int b = 0x80; b <= 0x8F; b++) {
      TABLE[XF4 * 256 + b] = N2;
    }
  }

  private JsonStringDfa() {}

  static int step(int state, int b) {
    return TABLE[state * 256 + b];
  }
}
