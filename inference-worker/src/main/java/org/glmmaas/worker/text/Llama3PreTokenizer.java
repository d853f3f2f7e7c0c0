package org.glmmaas.worker.text;

/**
 * The GLM-4 pre-tokenizer: LLaMA-3's split regex
 *
 * <pre>
 * (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * </pre>
 *
 * applied the way llama.cpp's hand-written splitter applies it (no regex engine, llama.cpp's own
 * Unicode categories from {@link LlamaUnicode}). Works on code points; reports word ends.
 */
final class Llama3PreTokenizer {

  private Llama3PreTokenizer() {}

  /** Receives each word as the half-open code point range [start, end). */
  @FunctionalInterface
  interface WordSink {
    void word(int start, int end);
  }

  /** Splits {@code cps[from, to)} into words, in order. */
  static void split(int[] cps, int from, int to, WordSink sink) {
    int pos = from;
    int prevEnd = from;
    while (pos < to) {
      int cp = cps[pos];
      int flags = LlamaUnicode.flags(cp);

      // (?i:'s|'t|'re|'ve|'m|'ll|'d)
      if (cp == '\'' && pos + 1 < to) {
        int next = asciiLower(cps[pos + 1]);
        if (next == 's' || next == 't' || next == 'm' || next == 'd') {
          pos += 2;
          sink.word(prevEnd, pos);
          prevEnd = pos;
          continue;
        }
        if (pos + 2 < to) {
          int nextNext = asciiLower(cps[pos + 2]);
          if ((next == 'r' && nextNext == 'e')
              || (next == 'v' && nextNext == 'e')
              || (next == 'l' && nextNext == 'l')) {
            pos += 3;
            sink.word(prevEnd, pos);
            prevEnd = pos;
            continue;
          }
        }
      }

      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (!(cp == '\r' || cp == '\n' || (flags & LlamaUnicode.NUMBER) != 0)) {
        if ((flags & LlamaUnicode.LETTER) != 0
            || (flagsAt(cps, pos + 1, to) & LlamaUnicode.LETTER) != 0) {
          pos++;
          while ((flagsAt(cps, pos, to) & LlamaUnicode.LETTER) != 0) {
            pos++;
          }
          sink.word(prevEnd, pos);
          prevEnd = pos;
          continue;
        }
      }

      // \p{N}{1,3}
      if ((flags & LlamaUnicode.NUMBER) != 0) {
        int ini = pos;
        while ((flagsAt(cps, pos, to) & LlamaUnicode.NUMBER) != 0) {
          if (++pos - ini >= 3) {
            sink.word(prevEnd, pos);
            prevEnd = pos;
            ini = pos;
          }
        }
        if (pos > prevEnd) {
          sink.word(prevEnd, pos);
          prevEnd = pos;
        }
        continue;
      }

      // <space>?[^\s\p{L}\p{N}]+[\r\n]*
      int flags2 = cp == ' ' ? flagsAt(cps, pos + 1, to) : flags;
      if (isOther(flags2) && inRange(pos, to)) {
        if (cp == ' ') {
          pos++;
        }
        while (isOther(flags2) && inRange(pos, to)) {
          flags2 = flagsAt(cps, ++pos, to);
        }
        while (pos < to && (cps[pos] == '\r' || cps[pos] == '\n')) {
          pos++;
        }
        sink.word(prevEnd, pos);
        prevEnd = pos;
        continue;
      }

      int numWhitespaces = 0;
      int lastEndROrN = 0;
      while ((flagsAt(cps, pos + numWhitespaces, to) & LlamaUnicode.WHITESPACE) != 0) {
        int c = cps[pos + numWhitespaces];
        if (c == '\r' || c == '\n') {
          lastEndROrN = pos + numWhitespaces + 1;
        }
        numWhitespaces++;
      }

      // \s*[\r\n]+
      if (lastEndROrN > 0) {
        pos = lastEndROrN;
        sink.word(prevEnd, pos);
        prevEnd = pos;
        continue;
      }

      // \s+(?!\S)
      if (numWhitespaces > 1 && pos + numWhitespaces < to) {
        pos += numWhitespaces - 1;
        sink.word(prevEnd, pos);
        prevEnd = pos;
        continue;
      }

      // \s+
      if (numWhitespaces > 0) {
        pos += numWhitespaces;
        sink.word(prevEnd, pos);
        prevEnd = pos;
        continue;
      }

      // no match: the code point alone
      pos++;
      sink.word(prevEnd, pos);
      prevEnd = pos;
    }
  }

  /**
   * Not whitespace, letter or number. In llama.cpp a position past the fragment has no flags at all
   * and so stops the run; {@link #inRange} carries that condition.
   */
  private static boolean isOther(int flags) {
    return (flags & (LlamaUnicode.WHITESPACE | LlamaUnicode.LETTER | LlamaUnicode.NUMBER)) == 0;
  }

  private static boolean inRange(int pos, int to) {
    return pos < to;
  }

  private static int flagsAt(int[] cps, int pos, int to) {
    return pos < to ? LlamaUnicode.flags(cps[pos]) : 0;
  }

  private static int asciiLower(int cp) {
    return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  }
}
