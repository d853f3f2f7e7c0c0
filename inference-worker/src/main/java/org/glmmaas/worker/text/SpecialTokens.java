package org.glmmaas.worker.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts special tokens out of a text before BPE, exactly as llama.cpp's {@code
 * tokenizer_st_partition}: the tokens are tried longest first; each takes its leftmost,
 * non-overlapping occurrences in the text not already taken by a longer one.
 *
 * <p>Implemented in one scan: every occurrence of every candidate is found by its first char, then
 * claimed in llama.cpp's priority order.
 */
final class SpecialTokens {

  interface TextSink {
    void text(int start, int end);
  }

  interface TokenSink {
    void token(int id);
  }

  private final String[] texts; // in priority order: longest first, then lowest id
  private final int[] ids;

  /** Per candidate: a control/unknown token (never matched inside literal text). */
  private final boolean[] controlOnly;

  private final boolean[] firstChar = new boolean[1 << 16];

  /** For each first char: the candidate indexes, in priority order. */
  private final int[][] byFirstChar = new int[1 << 16][];

  private SpecialTokens(String[] texts, int[] ids, boolean[] controlOnly) {
    this.texts = texts;
    this.ids = ids;
    this.controlOnly = controlOnly;
    List<List<Integer>> buckets = new ArrayList<>();
    int[] bucketOf = new int[1 << 16];
    Arrays.fill(bucketOf, -1);
    for (int i = 0; i < texts.length; i++) {
      char c = texts[i].charAt(0);
      firstChar[c] = true;
      if (bucketOf[c] < 0) {
        bucketOf[c] = buckets.size();
        buckets.add(new ArrayList<>());
      }
      buckets.get(bucketOf[c]).add(i);
    }
    for (int c = 0; c < bucketOf.length; c++) {
      if (bucketOf[c] >= 0) {
        byFirstChar[c] = buckets.get(bucketOf[c]).stream().mapToInt(Integer::intValue).toArray();
      }
    }
  }

  /**
   * @param parseSpecial true: control, unknown and user-defined tokens; false: user-defined only
   */
  static SpecialTokens of(List<String> tokens, int[] types, boolean parseSpecial) {
    List<Integer> candidates = new ArrayList<>();
    for (int id = 0; id < tokens.size(); id++) {
      int t = types[id];
      boolean special =
          t == BpeTokenizer.TYPE_USER_DEFINED
              || (parseSpecial
                  && (t == BpeTokenizer.TYPE_CONTROL || t == BpeTokenizer.TYPE_UNKNOWN));
      if (special && !tokens.get(id).isEmpty()) {
        candidates.add(id);
      }
    }
    candidates.sort(
        Comparator.<Integer>comparingInt(
                id -> -tokens.get(id).getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
            .thenComparingInt(id -> id));
    String[] texts = new String[candidates.size()];
    int[] ids = new int[candidates.size()];
    boolean[] controlOnly = new boolean[candidates.size()];
    for (int i = 0; i < texts.length; i++) {
      ids[i] = candidates.get(i);
      texts[i] = tokens.get(ids[i]);
      controlOnly[i] = types[ids[i]] != BpeTokenizer.TYPE_USER_DEFINED;
    }
    return new SpecialTokens(texts, ids, controlOnly);
  }

  /** Calls the sinks in text order: raw text ranges (never empty) and special token ids. */
  void partition(String s, TextSink textSink, TokenSink tokenSink) {
    partition(s, null, textSink, tokenSink);
  }

  /**
   * As {@link #partition(String, TextSink, TokenSink)}, but a control (or unknown) token never
   * matches where any of its chars is set in {@code literal}: those chars are user data, which only
   * user-defined tokens may match (as with special-token parsing off).
   */
  void partition(String s, java.util.BitSet literal, TextSink textSink, TokenSink tokenSink) {
    int n = s.length();
    if (texts.length == 0 || n == 0) {
      if (n > 0) {
        textSink.text(0, n);
      }
      return;
    }
    // occurrences: (candidate index, position), gathered per candidate in position order
    int[][] occ = null;
    int[] occCount = null;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (!firstChar[c]) {
        continue;
      }
      for (int k : byFirstChar[c]) {
        if (s.startsWith(texts[k], i)) {
          if (occ == null) {
            occ = new int[texts.length][];
            occCount = new int[texts.length];
          }
          if (occ[k] == null) {
            occ[k] = new int[4];
          } else if (occCount[k] == occ[k].length) {
            occ[k] = Arrays.copyOf(occ[k], occ[k].length * 2);
          }
          occ[k][occCount[k]++] = i;
        }
      }
    }
    if (occ == null) {
      textSink.text(0, n);
      return;
    }
    // claim in priority order; an occurrence counts only where no longer token took any char
    int[] owner =
        new int[n]; // 0 = free, else candidate index + 1 at a token's first char, -1 inside
    boolean[] taken = new boolean[n];
    for (int k = 0; k < texts.length; k++) {
      if (occ[k] == null) {
        continue;
      }
      int len = texts[k].length();
      for (int j = 0; j < occCount[k]; j++) {
        int p = occ[k][j];
        boolean free =
            literal == null || !controlOnly[k] || literal.nextSetBit(p) < 0
                ? true
                : literal.nextSetBit(p) >= p + len;
        for (int q = p; free && q < p + len; q++) {
          if (taken[q]) {
            free = false;
            break;
          }
        }
        if (free) {
          Arrays.fill(taken, p, p + len, true);
          owner[p] = k + 1;
        }
      }
    }
    int textStart = 0;
    int i = 0;
    while (i < n) {
      if (owner[i] > 0) {
        if (i > textStart) {
          textSink.text(textStart, i);
        }
        int k = owner[i] - 1;
        tokenSink.token(ids[k]);
        i += texts[k].length();
        textStart = i;
      } else {
        i++;
      }
    }
    if (n > textStart) {
      textSink.text(textStart, n);
    }
  }
}
