package org.glmmaas.worker.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Constrained decoding in the sampler: only allowed tokens are ever drawn, whatever the logits. */
class MaskedSamplingTest {

  private static final int V = 1000;

  private static long[] allow(int... ids) {
    long[] w = new long[(V + 63) >>> 6];
    for (int id : ids) {
      w[id >>> 6] |= 1L << id;
    }
    return w;
  }

  private static FloatBuffer logits(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[V];
    for (int i = 0; i < V; i++) {
      a[i] = (float) (r.nextGaussian() * 3);
    }
    return FloatBuffer.wrap(a);
  }

  @Test
  void greedyTakesTheBestAllowedToken() {
    float[] a = new float[V];
    a[5] = 10f;
    a[700] = 3f;
    a[64] = 2f;
    Sampler s =
        new LogitsSampler(
            new SamplingConfig(0f, 1f, 0, 0f, 1f, 0f, 0f, false, 1, 16, List.of(), false, true, 0),
            V);
    Sampler.Sample sample = s.sample(FloatBuffer.wrap(a), 0, allow(64, 700), V);
    assertThat(sample.tokenId()).isEqualTo(700);
    assertThat(sample.logprob()).isLessThan(0f).isGreaterThan(-1f); // over the two allowed only
  }

  @Test
  void plainGreedyReadsOnlyTheAllowedLogits() {
    float[] a = new float[V];
    a[5] = 10f;
    a[700] = 3f;
    a[64] = Float.NaN;
    Sampler s =
        new LogitsSampler(
            new SamplingConfig(0f, 1f, 0, 0f, 1f, 0f, 0f, false, 1, 16, List.of(), false, false, 0),
            V);
    assertThat(s.sample(FloatBuffer.wrap(a), 0, allow(64, 700), V).tokenId()).isEqualTo(700);
    assertThat(s.sample(FloatBuffer.wrap(a), 0, allow(64), V).tokenId()).isEqualTo(64);
  }

  @Test
  void samplingNeverDrawsADisallowedToken() {
    int[] ids = {3, 64, 127, 128, 500, 999};
    long[] mask = allow(ids);
    for (float topP : new float[] {1f, 0.9f}) {
      for (int topK : new int[] {0, 3, 50}) {
        Sampler s =
            new LogitsSampler(
                new SamplingConfig(
                    1.3f, topP, topK, 0.05f, 1f, 0f, 0f, true, 7, 16, List.of(), false, true, 2),
                V);
        for (int step = 0; step < 300; step++) {
          Sampler.Sample sample = s.sample(logits(step), 0, mask, V);
          assertThat(ids).contains(sample.tokenId());
          assertThat(sample.topLogprobs())
              .allSatisfy(alt -> assertThat(ids).contains(alt.tokenId()));
        }
      }
    }
  }

  @Test
  void theOnlyAllowedTokenIsTakenEvenAtMinusInfinity() {
    float[] a = new float[V];
    a[9] = Float.NEGATIVE_INFINITY;
    Sampler s =
        new LogitsSampler(
            new SamplingConfig(1f, 1f, 0, 0f, 1f, 0f, 0f, true, 1, 16, List.of(), false, false, 0),
            V);
    assertThat(s.sample(FloatBuffer.wrap(a), 0, allow(9), V).tokenId()).isEqualTo(9);
    assertThatThrownBy(() -> s.sample(FloatBuffer.wrap(a), 0, allow(), V))
        .isInstanceOf(IllegalStateException.class);
  }
}
