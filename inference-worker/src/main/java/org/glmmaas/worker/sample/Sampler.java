package org.glmmaas.worker.sample;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * Chooses the next token of one sequence from its logits row. One instance per request: it holds
 * the request's random stream (seeded) and its penalty counts, so the same request with the same
 * seed gives the same tokens whatever else the engine is running.
 */
public interface Sampler {

  /** A chosen token with its natural-log probability and, if asked, the top alternatives. */
  record Sample(int tokenId, float logprob, List<Alternative> topLogprobs) {}

  record Alternative(int tokenId, float logprob) {}

  /**
   * @param logits the engine's logits buffer
   * @param offset index of this row's first float in {@code logits}
   */
  Sample sample(FloatBuffer logits, int offset);

  /**
   * As {@link #sample(FloatBuffer, int)}, drawing only among the allowed tokens (constrained
   * decoding): bit {@code id & 63} of {@code allowed[id >>> 6]} set. Logprobs are those of the
   * masked distribution. This default copies the row with the others at -inf.
   *
   * @param allowed the allowed-token bitset, at least one bit set within the vocabulary
   */
  default Sample sample(FloatBuffer logits, int offset, long[] allowed, int vocabSize) {
    float[] row = new float[vocabSize];
    logits.get(offset, row, 0, vocabSize);
    for (int i = 0; i < vocabSize; i++) {
      if ((allowed[i >>> 6] & (1L << i)) == 0) {
        row[i] = Float.NEGATIVE_INFINITY;
      }
    }
    return sample(FloatBuffer.wrap(row), 0);
  }

  /** Records a token of the context (prompt or generated) for the penalties. */
  void accept(int tokenId, boolean generated);
}
