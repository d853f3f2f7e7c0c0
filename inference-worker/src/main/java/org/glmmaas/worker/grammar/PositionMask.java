package org.glmmaas.worker.grammar;

/**
 * The tokens allowed at one grammar position whatever lies below it on the stack (xgrammar's
 * context-independent tokens): {@code dense} bits or {@code sparse} ids; plus the tokens that end
 * the position's rule part-way and whose rest ({@link Suffixes}) the continuation must accept,
 * decided per step. For string bodies, a suffix entry counts only when its character count lies in
 * [{@code kMin}, {@code kMax}].
 */
final class PositionMask {

  final long[] dense; // or null
  final int[] sparse; // or null
  final Suffixes suffixes; // or null
  final int kMin;
  final int kMax;

  PositionMask(long[] dense, int[] sparse, Suffixes suffixes, int kMin, int kMax) {
    this.dense = dense;
    this.sparse = sparse;
    this.suffixes = suffixes;
    this.kMin = kMin;
    this.kMax = kMax;
  }

  /** Compact form of an allowed-token bitset: ids when few. */
  static PositionMask of(long[] bits, Suffixes suffixes, int kMin, int kMax) {
    int count = 0;
    for (long w : bits) {
      count += Long.bitCount(w);
    }
    if (count > bits.length) {
      return new PositionMask(bits, null, suffixes, kMin, kMax);
    }
    int[] ids = new int[count];
    int k = 0;
    for (int w = 0; w < bits.length; w++) {
      long x = bits[w];
      while (x != 0) {
        ids[k++] = (w << 6) + Long.numberOfTrailingZeros(x);
        x &= x - 1;
      }
    }
    return new PositionMask(null, ids, suffixes, kMin, kMax);
  }

  /**
   * Tokens that leave the position's rule part-way: sorted by their remaining bytes, so the walk
   * over them shares prefixes.
   */
  static final class Suffixes {
    final byte[][] keys;
    final int[] tokens;
    final int[] chars;

    Suffixes(byte[][] keys, int[] tokens, int[] chars) {
      this.keys = keys;
      this.tokens = tokens;
      this.chars = chars;
    }

    int size() {
      return keys.length;
    }
  }
}
