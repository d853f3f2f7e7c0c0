package org.glmmaas.worker.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogitsSamplerTest {

  private static final int V = 1000;

  static SamplingConfig config(float temperature, float topP, int topK, float minP, long seed) {
    return new SamplingConfig(
        temperature, topP, topK, minP, 1f, 0f, 0f, true, seed, 16, List.of(), false, false, 0);
  }

  static SamplingConfig withPenalties(
      float rep, float presence, float frequency, boolean doSample) {
    return new SamplingConfig(
        1f, 1f, 0, 0f, rep, presence, frequency, doSample, 1, 16, List.of(), false, false, 0);
  }

  static FloatBuffer randomLogits(long seed, int n, float scale) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextGaussian() * scale);
    }
    return FloatBuffer.wrap(a);
  }

  @Test
  void greedyPicksTheLargestLogitAndTiesGoToTheLowestId() {
    float[] a = new float[V];
    a[17] = 5f;
    a[400] = 5f;
    a[999] = 4.9f;
    Sampler s = new LogitsSampler(config(0f, 1f, 0, 0f, 1), V);
    assertThat(s.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(17);
    SamplingConfig noSample =
        new SamplingConfig(0.7f, 1f, 0, 0f, 1f, 0f, 0f, false, 1, 16, List.of(), false, false, 0);
    assertThat(new LogitsSampler(noSample, V).sample(FloatBuffer.wrap(a), 0).tokenId())
        .isEqualTo(17);
  }

  @Test
  void readsTheRowAtTheOffsetAndNeverWritesTheEnginesBuffer() {
    float[] a = new float[3 * V];
    a[V + 42] = 9f;
    a[2 * V + 7] = 50f;
    float[] copy = a.clone();
    Sampler s = new LogitsSampler(withPenalties(1.5f, 0.5f, 0.5f, false), V);
    s.accept(42, true);
    assertThat(s.sample(FloatBuffer.wrap(a), V).tokenId()).isEqualTo(42);
    assertThat(a).containsExactly(copy);
  }

  @Test
  void sameSeedSameTokensDifferentSeedDifferentTokens() {
    List<Integer> a = draw(config(1f, 0.95f, 50, 0f, 1234), 200);
    List<Integer> b = draw(config(1f, 0.95f, 50, 0f, 1234), 200);
    List<Integer> c = draw(config(1f, 0.95f, 50, 0f, 999), 200);
    assertThat(a).isEqualTo(b);
    assertThat(a).isNotEqualTo(c);
  }

  private static List<Integer> draw(SamplingConfig cfg, int steps) {
    Sampler s = new LogitsSampler(cfg, V);
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      out.add(s.sample(randomLogits(i, V, 2f), 0).tokenId());
    }
    return out;
  }

  @Test
  void topKNeverSamplesOutsideTheKBest() {
    FloatBuffer logits = randomLogits(7, V, 1f);
    Set<Integer> best = topIds(logits, 10);
    Sampler s = new LogitsSampler(config(1.5f, 1f, 10, 0f, 3), V);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 3000; i++) {
      seen.add(s.sample(logits, 0).tokenId());
    }
    assertThat(best).containsAll(seen);
    assertThat(seen).hasSizeGreaterThan(5); // it does sample, not just argmax
  }

  @Test
  void topPNeverSamplesOutsideTheNucleus() {
    FloatBuffer logits = randomLogits(11, V, 3f);
    double[] p = softmax(logits, 1f);
    Integer[] order = sortedIds(p);
    Set<Integer> nucleus = new HashSet<>();
    double acc = 0;
    for (int id : order) {
      nucleus.add(id);
      acc += p[id];
      if (acc >= 0.5) {
        break;
      }
    }
    Sampler s = new LogitsSampler(config(1f, 0.5f, 0, 0f, 5), V);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 3000; i++) {
      seen.add(s.sample(logits, 0).tokenId());
    }
    assertThat(nucleus).containsAll(seen);
    assertThat(seen).hasSizeGreaterThan(1);
  }

  @Test
  void minPDropsTokensMuchLessLikelyThanTheBest() {
    float[] a = new float[V];
    java.util.Arrays.fill(a, -10f);
    a[1] = 2f;
    a[2] = 1.5f; // p ratio e^-0.5 = 0.61 >= 0.5: kept
    a[3] = 1f; // e^-1 = 0.37 < 0.5: dropped
    Sampler s = new LogitsSampler(config(1f, 1f, 0, 0.5f, 9), V);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      seen.add(s.sample(FloatBuffer.wrap(a), 0).tokenId());
    }
    assertThat(seen).containsExactlyInAnyOrder(1, 2);
  }

  @Test
  void higherTemperatureMeansHigherEntropy() {
    FloatBuffer logits = randomLogits(3, 50, 2f);
    double previous = -1;
    for (float t : new float[] {0.3f, 0.7f, 1f, 1.5f}) {
      int[] counts = new int[50];
      Sampler s = new LogitsSampler(config(t, 1f, 0, 0f, 42), 50);
      for (int i = 0; i < 20000; i++) {
        counts[s.sample(logits, 0).tokenId()]++;
      }
      double h = entropy(counts);
      assertThat(h).as("entropy at temperature %s", t).isGreaterThan(previous);
      previous = h;
    }
  }

  @Test
  void sampledFrequenciesFollowTheSoftmax() {
    float[] a = {0f, (float) Math.log(2), (float) Math.log(3), Float.NEGATIVE_INFINITY};
    Sampler s = new LogitsSampler(config(1f, 1f, 0, 0f, 77), 4);
    int[] counts = new int[4];
    int n = 60000;
    for (int i = 0; i < n; i++) {
      counts[s.sample(FloatBuffer.wrap(a), 0).tokenId()]++;
    }
    assertThat(counts[0] / (double) n).isCloseTo(1 / 6.0, within(0.01));
    assertThat(counts[1] / (double) n).isCloseTo(2 / 6.0, within(0.01));
    assertThat(counts[2] / (double) n).isCloseTo(3 / 6.0, within(0.01));
    assertThat(counts[3]).isZero();
  }

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
    float[] a = new float[V];
    a[5] = 3f; // seen: 3 / 2 = 1.5
    a[6] = 2f; // unseen: stays 2, now the best
    a[7] = -1f;
    Sampler s = new LogitsSampler(withPenalties(2f, 0f, 0f, false), V);
    assertThat(s.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(5);
    s.accept(5, false); // prompt tokens count for repetition
    assertThat(s.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(6);

    float[] b = new float[V];
    java.util.Arrays.fill(b, -5f);
    b[7] = -1f; // seen: -1 * 3 = -3, still above -5
    b[8] = -2f; // unseen: -2, now the best
    Sampler s2 = new LogitsSampler(withPenalties(3f, 0f, 0f, false), V);
    s2.accept(7, false);
    assertThat(s2.sample(FloatBuffer.wrap(b), 0).tokenId()).isEqualTo(8);
  }

  @Test
  void presenceAndFrequencyPenalizeGeneratedTokensOnly() {
    float[] a = new float[V];
    a[10] = 3f;
    a[11] = 2.5f;
    // prompt occurrences do not count for presence/frequency
    Sampler prompt = new LogitsSampler(withPenalties(1f, 1f, 1f, false), V);
    prompt.accept(10, false);
    assertThat(prompt.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(10);
    // presence: once generated, 3 - 1 = 2 < 2.5
    Sampler presence = new LogitsSampler(withPenalties(1f, 1f, 0f, false), V);
    presence.accept(10, true);
    assertThat(presence.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(11);
    // frequency grows with the count: 0.2 per occurrence; 2 occurrences: 2.6 > 2.5, 3: 2.4 < 2.5
    Sampler frequency = new LogitsSampler(withPenalties(1f, 0f, 0.2f, false), V);
    frequency.accept(10, true);
    frequency.accept(10, true);
    assertThat(frequency.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(10);
    frequency.accept(10, true);
    assertThat(frequency.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(11);
    // a negative presence penalty encourages repetition
    Sampler encourage = new LogitsSampler(withPenalties(1f, -1f, 0f, false), V);
    encourage.accept(11, true);
    assertThat(encourage.sample(FloatBuffer.wrap(a), 0).tokenId()).isEqualTo(11);
  }

  @Test
  void logprobsAreTheLogSoftmaxOfTheFinalDistribution() {
    float[] a = {1f, 2f, 3f, 0.5f};
    SamplingConfig greedy =
        new SamplingConfig(0f, 1f, 0, 0f, 1f, 0f, 0f, true, 1, 16, List.of(), false, true, 3);
    Sampler.Sample g = new LogitsSampler(greedy, 4).sample(FloatBuffer.wrap(a), 0);
    double z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(0.5));
    assertThat(g.tokenId()).isEqualTo(2);
    assertThat((double) g.logprob()).isCloseTo(3 - z, within(1e-5));
    assertThat(g.topLogprobs()).extracting(Sampler.Alternative::tokenId).containsExactly(2, 1, 0);
    assertThat((double) g.topLogprobs().get(1).logprob()).isCloseTo(2 - z, within(1e-5));

    // top_k = 2 at temperature 1: the final distribution is over {2, 1} only
    SamplingConfig topK =
        new SamplingConfig(1f, 1f, 2, 0f, 1f, 0f, 0f, true, 1, 16, List.of(), false, true, 5);
    Sampler.Sample k = new LogitsSampler(topK, 4).sample(FloatBuffer.wrap(a), 0);
    double z2 = Math.log(Math.exp(2) + Math.exp(3));
    assertThat(k.topLogprobs()).extracting(Sampler.Alternative::tokenId).containsExactly(2, 1);
    assertThat((double) k.logprob()).isCloseTo(a[k.tokenId()] - z2, within(1e-5));
  }

  @Test
  void topPAtTheFullVocabularyScaleStaysInTheNucleus() {
    int v = 151_552;
    FloatBuffer logits = randomLogits(5, v, 4f);
    Sampler s =
        new LogitsSampler(
            new SamplingConfig(
                0.8f, 0.9f, 0, 0f, 1f, 0f, 0f, true, 1, 16, List.of(), false, true, 0),
            v);
    double[] p = softmax(logits, 0.8f);
    for (int i = 0; i < 5; i++) {
      Sampler.Sample out = s.sample(logits, 0);
      // every sampled token lies in the 0.9 nucleus: the mass strictly above it is < 0.9
      double above = 0;
      for (int id = 0; id < v; id++) {
        if (p[id] > p[out.tokenId()]) {
          above += p[id];
        }
      }
      assertThat(above).isLessThan(0.9);
    }
  }

  @Test
  void aLargeNucleusIsCutExactlyWithoutSortingTheVocabulary() {
    int v = 20_000;
    FloatBuffer logits = randomLogits(13, v, 1f); // flat: the 0.8 nucleus holds thousands of tokens
    double[] p = softmax(logits, 1f);
    Integer[] order = sortedIds(p);
    Set<Integer> nucleus = new HashSet<>();
    double acc = 0;
    for (int id : order) {
      nucleus.add(id);
      acc += p[id];
      if (acc >= 0.8) {
        break;
      }
    }
    SamplingConfig cfg =
        new SamplingConfig(1f, 0.8f, 0, 0f, 1f, 0f, 0f, true, 3, 16, List.of(), false, true, 5);
    Sampler s = new LogitsSampler(cfg, v);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 400; i++) {
      Sampler.Sample out = s.sample(logits, 0);
      seen.add(out.tokenId());
      assertThat(out.topLogprobs())
          .extracting(Sampler.Alternative::tokenId)
          .containsExactly(order[0], order[1], order[2], order[3], order[4]);
    }
    assertThat(nucleus).hasSizeGreaterThan(1000).containsAll(seen);
    assertThat(seen).hasSizeGreaterThan(200);
  }

  @Test
  void fastExpIsAccurateToFloatPrecision() {
    for (float x = 0f; x > -87f; x -= 0.0137f) {
      double exact = Math.exp(x);
      assertThat(Math.abs(LogitsSampler.expNonPositive(x) - exact) / exact)
          .as("x=%s", x)
          .isLessThan(5e-7);
    }
    assertThat(LogitsSampler.expNonPositive(0f)).isEqualTo(1f);
    assertThat(LogitsSampler.expNonPositive(Float.NEGATIVE_INFINITY)).isZero();
    assertThat(LogitsSampler.expNonPositive(Float.NaN)).isZero();
  }

  @Test
  void nanLogitsAreNeverChosen() {
    float[] a = new float[V];
    java.util.Arrays.fill(a, Float.NaN);
    a[3] = -1f;
    a[9] = -2f;
    assertThat(
            new LogitsSampler(config(0f, 1f, 0, 0f, 1), V).sample(FloatBuffer.wrap(a), 0).tokenId())
        .isEqualTo(3);
    Sampler s = new LogitsSampler(config(1f, 0.99f, 0, 0f, 1), V);
    for (int i = 0; i < 50; i++) {
      assertThat(s.sample(FloatBuffer.wrap(a), 0).tokenId()).isIn(3, 9);
    }
  }

  @Test
  void rejectsARowOutsideTheBufferAndTokensOutsideTheVocabulary() {
    Sampler s = new LogitsSampler(config(1f, 1f, 0, 0f, 1), V);
    assertThatThrownBy(() -> s.sample(FloatBuffer.allocate(V), 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s.accept(V, true)).hasMessageContaining("outside the vocabulary");
  }

  private static Set<Integer> topIds(FloatBuffer logits, int k) {
    double[] p = softmax(logits, 1f);
    Integer[] order = sortedIds(p);
    return new HashSet<>(List.of(order).subList(0, k));
  }

  private static Integer[] sortedIds(double[] p) {
    Integer[] ids = new Integer[p.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i;
    }
    java.util.Arrays.sort(ids, (x, y) -> Double.compare(p[y], p[x]));
    return ids;
  }

  private static double[] softmax(FloatBuffer logits, float t) {
    int n = logits.limit();
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, logits.get(i) / t);
    }
    double[] p = new double[n];
    double z = 0;
    for (int i = 0; i < n; i++) {
      p[i] = Math.exp(logits.get(i) / t - max);
      z += p[i];
    }
    for (int i = 0; i < n; i++) {
      p[i] /= z;
    }
    return p;
  }

  private static double entropy(int[] counts) {
    double n = 0;
    for (int c : counts) {
      n += c;
    }
    double h = 0;
    for (int c : counts) {
      if (c > 0) {
        h -= (c / n) * Math.log(c / n);
      }
    }
    return h;
  }
}
