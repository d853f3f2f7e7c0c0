package org.glmmaas.worker.grammar;

/**
 * A per-sequence constraint on the next token (constrained decoding). One instance per choice; not
 * thread-safe: the engine thread calls {@link #fillNextTokenBitmask}, then the sampler draws from
 * the allowed tokens, then {@link #accept} advances it.
 *
 * <p>The end-of-generation tokens of the model are part of the constraint: they are allowed exactly
 * when {@link #isComplete()} (the text so far is a full match), and accepting one terminates it.
 * When the grammar can go no further (the top-level JSON value is closed), only they are allowed.
 * Control tokens other than those never appear in a mask, except where a literal of the constraint
 * spells one out exactly.
 */
public interface TokenConstraint {

  /**
   * Writes the allowed next tokens as a bitset: bit {@code id & 63} of {@code words[id >>> 6]} is
   * set iff token {@code id} may come next. Every word of {@code words} is overwritten.
   *
   * @param words at least {@link #wordsFor(int) wordsFor(vocabSize)} longs
   */
  void fillNextTokenBitmask(long[] words);

  /** Sets the logit of every token the constraint does not allow next to -inf. */
  default void mask(float[] logits) {
    long[] words = new long[wordsFor(logits.length)];
    fillNextTokenBitmask(words);
    applyBitmask(words, logits);
  }

  /**
   * Advances past {@code tokenId}.
   *
   * @throws IllegalStateException if the token was not allowed here (the state is then unchanged)
   */
  void accept(int tokenId);

  /** Whether the text so far is a full match: end-of-generation (and stop strings) may end here. */
  boolean isComplete();

  /** Whether an end-of-generation token has been accepted: nothing more may follow. */
  boolean isTerminated();

  /** An independent copy in the same state (for n choices forking after the prompt). */
  TokenConstraint copy();

  /** Longs needed for a bitset over {@code vocabSize} tokens. */
  static int wordsFor(int vocabSize) {
    return (vocabSize + 63) >>> 6;
  }

  /** Sets {@code logits[i]} to -inf for every clear bit i of {@code words}. */
  static void applyBitmask(long[] words, float[] logits) {
    int n = logits.length;
    for (int w = 0; w < wordsFor(n); w++) {
      long bits = words[w];
      if (bits == -1L) {
        continue;
      }
      int base = w << 6;
      int end = Math.min(64, n - base);
      for (int b = 0; b < end; b++) {
        if ((bits & (1L << b)) == 0) {
          logits[base + b] = Float.NEGATIVE_INFINITY;
        }
      }
    }
  }
}
