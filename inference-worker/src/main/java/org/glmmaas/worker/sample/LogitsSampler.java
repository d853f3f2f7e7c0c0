package org.glmmaas.worker.sample;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The {@link Sampler} of one request. Per step:
 *
 * <ol>
 *   <li>penalties: repetition (llama.cpp's multiplicative form: a positive logit is divided, a
 *       negative one multiplied, for every token seen in the prompt or output), then presence and
 *       frequency (OpenAI's additive form, generated tokens only);
 *   <li>greedy ({@code do_sample=false} or temperature 0): the largest logit, ties to the lowest
 *       id;
 *   <li>otherwise: temperature, then top-k, top-p (the smallest most-probable prefix whose mass
 *       reaches top_p, over the top-k set), then min-p (relative to the most probable token), then
 *       one draw from the request's own seeded random stream.
 * </ol>
 *
 * <p>Logprobs are the log-softmax of the final distribution the token was drawn from (greedy: the
 * penalized logits over the whole vocabulary). Nothing sorts the vocabulary: top-k is a heap
 * selection of packed (logit, id) keys, top-p over the whole vocabulary bins the mass by logit and
 * sorts only the bin where the nucleus ends.
 *
 * <p>Not thread-safe: one instance per request, used by the engine thread.
 */
public final class LogitsSampler implements Sampler {

  private static final int HISTOGRAM_BUCKETS = 4096;
  private static final double HISTOGRAM_RANGE = 64.0;

  private final SamplingConfig config;
  private final int vocabSize;
  private final SplittableRandom random;
  private final boolean repetition;
  private final boolean additive;
  private final int[] generatedCount;
  private final boolean[] seen;
  private final IntArray touched = new IntArray();
  private float[] work;
  private float[] probs;
  private short[] bucketOf;
  private double[] bucketMass;
  private int[] members;
  private long[] keys;

  public LogitsSampler(SamplingConfig config, int vocabSize) {
    if (vocabSize <= 0) {
      throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
    }
    this.config = config;
    this.vocabSize = vocabSize;
    this.random = new SplittableRandom(config.seed());
    this.repetition = config.repetitionPenalty() != 1f;
    this.additive = config.presencePenalty() != 0f || config.frequencyPenalty() != 0f;
    this.generatedCount = new int[vocabSize];
    this.seen = new boolean[vocabSize];
  }

  @Override
  public void accept(int tokenId, boolean generated) {
    if (tokenId < 0 || tokenId >= vocabSize) {
      throw new IllegalArgumentException(
          "token id " + tokenId + " outside the vocabulary 0.." + (vocabSize - 1));
    }
    if (!seen[tokenId]) {
      seen[tokenId] = true;
      touched.add(tokenId);
    }
    if (generated) {
      generatedCount[tokenId]++;
    }
  }

  @Override
  public Sample sample(FloatBuffer logits, int offset) {
    if (offset < 0 || offset + vocabSize > logits.limit()) {
      throw new IllegalArgumentException(
          "logits row ["
              + offset
              + ", "
              + (offset + vocabSize)
              + ") outside the buffer of "
              + logits.limit());
    }
    if (config.greedy()
        && !repetition
        && !additive
        && !config.logprobs()
        && config.topLogprobs() == 0) {
      return new Sample(argmax(logits, offset), 0f, List.of()); // one pass, nothing copied
    }
    float[] row = penalizedRow(logits, offset);
    if (config.greedy()) {
      return greedy(row);
    }
    return sampled(row);
  }

  @Override
  public Sample sample(FloatBuffer logits, int offset, long[] allowed, int vocabSize) {
    if (vocabSize != this.vocabSize) {
      throw new IllegalArgumentException(
          "vocabSize " + vocabSize + " is not the sampler's " + this.vocabSize);
    }
    if (offset < 0 || offset + vocabSize > logits.limit()) {
      throw new IllegalArgumentException(
          "logits row ["
              + offset
              + ", "
              + (offset + vocabSize)
              + ") outside the buffer of "
              + logits.limit());
    }
    if (config.greedy()
        && !repetition
        && !additive
        && !config.logprobs()
        && config.topLogprobs() == 0) {
      return new Sample(maskedArgmax(logits, offset, allowed), 0f, List.of()); // nothing copied
    }
    float[] row = penalizedRow(logits, offset);
    int firstAllowed = -1;
    for (int w = 0, words = (vocabSize + 63) >>> 6; w < words; w++) {
      long bits = allowed[w];
      int base = w << 6;
      int end = Math.min(64, vocabSize - base);
      if (bits == 0) {
        Arrays.fill(row, base, base + end, Float.NEGATIVE_INFINITY);
        continue;
      }
      if (firstAllowed < 0) {
        firstAllowed = base + Long.numberOfTrailingZeros(bits);
      }
      if (bits != -1L) {
        for (int b = 0; b < end; b++) {
          if ((bits & (1L << b)) == 0) {
            row[base + b] = Float.NEGATIVE_INFINITY;
          }
        }
      }
    }
    if (firstAllowed < 0) {
      throw new IllegalStateException("the constraint allows no token");
    }
    boolean allBlocked = true; // every allowed logit -inf or NaN: take the first allowed token
    for (int w = 0, words = (vocabSize + 63) >>> 6; w < words && allBlocked; w++) {
      long bits = allowed[w];
      while (bits != 0) {
        int id = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        if (id < vocabSize && row[id] > Float.NEGATIVE_INFINITY) {
          allBlocked = false;
          break;
        }
      }
    }
    if (allBlocked) {
      return new Sample(firstAllowed, 0f, List.of());
    }
    Sample s = config.greedy() ? greedy(row) : sampled(row);
    int id = s.tokenId();
    if ((allowed[id >>> 6] & (1L << id)) == 0) {
      return new Sample(firstAllowed, s.logprob(), s.topLogprobs()); // rounding at the edge
    }
    return s;
  }

  /**
   * Largest allowed logit of the row, ties to the lowest id; NaN never wins; the first allowed
   * token when every allowed logit is -inf or NaN.
   */
  private int maskedArgmax(FloatBuffer logits, int offset, long[] allowed) {
    int best = -1;
    float bestValue = Float.NEGATIVE_INFINITY;
    int first = -1;
    for (int w = 0, words = (vocabSize + 63) >>> 6; w < words; w++) {
      long bits = allowed[w];
      while (bits != 0) {
        int id = (w << 6) + Long.numberOfTrailingZeros(bits);
        bits &= bits - 1;
        if (id >= vocabSize) {
          break;
        }
        if (first < 0) {
          first = id;
        }
        float v = logits.get(offset + id);
        if (v > bestValue) {
          bestValue = v;
          best = id;
        }
      }
    }
    if (first < 0) {
      throw new IllegalStateException("the constraint allows no token");
    }
    return best < 0 ? first : best;
  }

  /** Largest logit of the row, ties to the lowest id; NaN never wins. */
  private int argmax(FloatBuffer logits, int offset) {
    int best = 0;
    float bestValue = Float.NEGATIVE_INFINITY;
    boolean found = false;
    for (int i = 0; i < vocabSize; i++) {
      float v = logits.get(offset + i);
      if (v > bestValue || (!found && v == bestValue)) {
        bestValue = v;
        best = i;
        found = true;
      }
    }
    return best;
  }

  /**
   * The row with penalties applied, in this sampler's own array (the engine's buffer is never
   * written).
   */
  private float[] penalizedRow(FloatBuffer logits, int offset) {
    if (work == null) {
      work = new float[vocabSize];
    }
    logits.get(offset, work, 0, vocabSize); // NaN is made -inf by the paths that need it
    if (repetition || additive) {
      float rep = config.repetitionPenalty();
      for (int k = 0; k < touched.size; k++) {
        int id = touched.data[k];
        float l = work[id];
        if (repetition) {
          l = l > 0 ? l / rep : l * rep;
        }
        int count = generatedCount[id];
        if (additive && count > 0) {
          l -= config.presencePenalty() + config.frequencyPenalty() * count;
        }
        work[id] = l;
      }
    }
    return work;
  }

  private Sample greedy(float[] row) {
    int best = 0;
    float bestValue = Float.NEGATIVE_INFINITY;
    boolean found = false;
    for (int i = 0; i < vocabSize; i++) {
      float v = row[i];
      if (v > bestValue || (!found && v == bestValue)) {
        bestValue = v;
        best = i;
        found = true;
      }
    }
    if (!config.logprobs() && config.topLogprobs() == 0) {
      return new Sample(best, 0f, List.of());
    }
    for (int i = 0; i < vocabSize; i++) {
      if (row[i] != row[i]) {
        row[i] = Float.NEGATIVE_INFINITY; // NaN: never an alternative
      }
    }
    double logZ = logSumExp(row, bestValue, null, vocabSize);
    float logprob = (float) (row[best] - logZ);
    List<Alternative> top = List.of();
    if (config.topLogprobs() > 0) {
      long[] sorted = topKeys(row, null, vocabSize, config.topLogprobs());
      top = alternatives(sorted, Math.min(sorted.length, config.topLogprobs()), row, logZ);
    }
    return new Sample(best, logprob, top);
  }

  private Sample sampled(float[] row) {
    float invT = 1f / config.temperature();
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocabSize; i++) {
      float v = row[i] * invT;
      if (v != v) {
        v = Float.NEGATIVE_INFINITY; // NaN is never sampled
      }
      row[i] = v;
      if (v > max) {
        max = v;
      }
    }
    if (max == Float.NEGATIVE_INFINITY) {
      throw new IllegalStateException("every logit is -inf or NaN: nothing can be sampled");
    }
    int k = config.topK() > 0 ? Math.min(config.topK(), vocabSize) : vocabSize;
    boolean topP = config.topP() < 1f;
    float minLogit =
        config.minP() > 0f ? max + (float) Math.log(config.minP()) : Float.NEGATIVE_INFINITY;

    if (k == vocabSize && !topP) {
      return drawUnsorted(row, max, minLogit);
    }
    // sorted prefix: top-k keys (or more and more of the vocabulary for top-p)
    long[] sorted;
    int n;
    if (!topP) {
      sorted = topKeys(row, null, vocabSize, k);
      n = sorted.length;
    } else if (k < vocabSize) {
      sorted = topKeys(row, null, vocabSize, k);
      double z = 0;
      for (long key : sorted) {
        z += Math.exp(row[idOf(key)] - max);
      }
      n = nucleus(sorted, row, max, z);
    } else {
      // top-p over the whole vocabulary: a histogram of the mass finds the cut, no sort
      return drawNucleusByHistogram(row, max, minLogit, fillProbs(row, max));
    }
    if (n == 0) {
      n = sorted.length; // rounding: the whole candidate set
    }
    int end = 0;
    while (end < n && row[idOf(sorted[end])] >= minLogit) {
      end++;
    }
    end = Math.max(end, 1); // the most probable token always survives
    double z = 0;
    for (int i = 0; i < end; i++) {
      z += Math.exp(row[idOf(sorted[i])] - max);
    }
    double u = random.nextDouble() * z;
    int chosen = idOf(sorted[end - 1]);
    double acc = 0;
    for (int i = 0; i < end; i++) {
      int id = idOf(sorted[i]);
      acc += Math.exp(row[id] - max);
      if (u < acc) {
        chosen = id;
        break;
      }
    }
    double logZ = max + Math.log(z);
    List<Alternative> top =
        config.topLogprobs() > 0
            ? alternatives(sorted, Math.min(end, config.topLogprobs()), row, logZ)
            : List.of();
    return new Sample(chosen, (float) (row[chosen] - logZ), top);
  }

  /** Neither top-k nor top-p: one pass for the mass, one for the draw. */
  private Sample drawUnsorted(float[] row, float max, float minLogit) {
    float[] p = probs();
    double z = 0;
    for (int i = 0; i < vocabSize; i++) {
      float e = row[i] >= minLogit ? expNonPositive(row[i] - max) : 0f;
      p[i] = e;
      z += e;
    }
    double u = random.nextDouble() * z;
    double acc = 0;
    int chosen = -1;
    int last = -1;
    for (int i = 0; i < vocabSize; i++) {
      if (p[i] > 0f) {
        last = i;
        acc += p[i];
        if (u < acc) {
          chosen = i;
          break;
        }
      }
    }
    if (chosen < 0) {
      chosen = last;
    }
    double logZ = max + Math.log(z);
    List<Alternative> top = List.of();
    if (config.topLogprobs() > 0) {
      long[] sorted = topKeys(row, null, vocabSize, config.topLogprobs());
      int n = 0;
      while (n < sorted.length && row[idOf(sorted[n])] >= minLogit) {
        n++;
      }
      top = alternatives(sorted, n, row, logZ);
    }
    return new Sample(chosen, (float) (row[chosen] - logZ), top);
  }

  private float[] probs() {
    if (probs == null) {
      probs = new float[vocabSize];
      bucketOf = new short[vocabSize];
      bucketMass = new double[HISTOGRAM_BUCKETS];
      members = new int[vocabSize];
    }
    return probs;
  }

  /**
   * exp(logit - max) of every token into {@link #probs}, and its mass binned by logit into {@link
   * #bucketMass} (HISTOGRAM_BUCKETS bins over the HISTOGRAM_RANGE below the max, the rest in bin
   * 0); returns the total mass.
   */
  private double fillProbs(float[] row, float max) {
    float[] p = probs();
    double[] mass = bucketMass;
    Arrays.fill(mass, 0);
    float scale = (float) (HISTOGRAM_BUCKETS / HISTOGRAM_RANGE);
    float base = max - (float) HISTOGRAM_RANGE;
    double z = 0;
    for (int i = 0; i < vocabSize; i++) {
      float l = row[i];
      float e = expNonPositive(l - max);
      p[i] = e;
      z += e;
      float d = (l - base) * scale;
      int b = d <= 0f ? 0 : Math.min(HISTOGRAM_BUCKETS - 1, (int) d);
      bucketOf[i] = (short) b;
      mass[b] += e;
    }
    return z;
  }

  /**
   * Top-p over the whole vocabulary, from the histogram {@link #fillProbs} built: whole bins above
   * the cut are in, only the bin holding the cut is sorted (a few hundred tokens at most). Then
   * min-p, then one draw over the members (in id order).
   */
  private Sample drawNucleusByHistogram(float[] row, float max, float minLogit, double z) {
    float[] p = probs;
    double[] mass = bucketMass;
    double target = config.topP() * z;
    double above = 0;
    int cut = 0;
    for (int b = HISTOGRAM_BUCKETS - 1; b >= 0; b--) {
      if (above + mass[b] >= target) {
        cut = b;
        break;
      }
      above += mass[b];
    }
    // sort the cut bin only; the nucleus ends inside it
    int inCut = 0;
    for (int i = 0; i < vocabSize; i++) {
      if (bucketOf[i] == cut) {
        members[inCut++] = i;
      }
    }
    long[] cutKeys = topKeys(row, members, inCut, inCut);
    long lastKey = cutKeys[cutKeys.length - 1];
    double acc = above;
    for (long key : cutKeys) {
      acc += p[idOf(key)];
      if (acc >= target) {
        lastKey = key;
        break;
      }
    }
    int n = 0;
    double zFinal = 0;
    for (int i = 0; i < vocabSize; i++) {
      int b = bucketOf[i];
      if ((b > cut || (b == cut && key(row[i], i) >= lastKey)) && row[i] >= minLogit) {
        members[n++] = i;
        zFinal += p[i];
      }
    }
    double u = random.nextDouble() * zFinal;
    double run = 0;
    int chosen = members[n - 1];
    for (int j = 0; j < n; j++) {
      run += p[members[j]];
      if (u < run) {
        chosen = members[j];
        break;
      }
    }
    double logZ = max + Math.log(zFinal);
    List<Alternative> top = List.of();
    if (config.topLogprobs() > 0) {
      long[] best = topKeys(row, members, n, config.topLogprobs());
      top = alternatives(best, best.length, row, logZ);
    }
    return new Sample(chosen, (float) (row[chosen] - logZ), top);
  }

  /** Smallest prefix of {@code sorted} whose mass reaches top_p, or 0 if it does not within it. */
  private int nucleus(long[] sorted, float[] row, float max, double z) {
    double target = config.topP() * z;
    double acc = 0;
    for (int i = 0; i < sorted.length; i++) {
      acc += Math.exp(row[idOf(sorted[i])] - max);
      if (acc >= target) {
        return i + 1;
      }
    }
    return 0;
  }

  private static double logSumExp(float[] row, float max, int[] ids, int n) {
    double z = 0;
    for (int i = 0; i < n; i++) {
      z += expNonPositive(row[ids == null ? i : ids[i]] - max);
    }
    return max + Math.log(z);
  }

  private static List<Alternative> alternatives(long[] sorted, int n, float[] row, double logZ) {
    List<Alternative> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int id = idOf(sorted[i]);
      out.add(new Alternative(id, (float) (row[id] - logZ)));
    }
    return List.copyOf(out);
  }

  /**
   * The m best (logit, id) keys, best first (ties: lowest id first), by a min-heap of size m: one
   * pass over the row, no full sort.
   */
  long[] topKeys(float[] row, int[] ids, int n, int m) {
    m = Math.min(m, n);
    if (keys == null || keys.length < m) {
      keys = new long[Math.max(m, 64)];
    }
    long[] heap = keys;
    int size = 0;
    for (int i = 0; i < n; i++) {
      int id = ids == null ? i : ids[i];
      long key = key(row[id], id);
      if (size < m) {
        int j = size++;
        while (j > 0) {
          int parent = (j - 1) >>> 1;
          if (heap[parent] <= key) {
            break;
          }
          heap[j] = heap[parent];
          j = parent;
        }
        heap[j] = key;
      } else if (key > heap[0]) {
        int j = 0;
        int half = m >>> 1;
        while (j < half) {
          int child = 2 * j + 1;
          if (child + 1 < m && heap[child + 1] < heap[child]) {
            child++;
          }
          if (key <= heap[child]) {
            break;
          }
          heap[j] = heap[child];
          j = child;
        }
        heap[j] = key;
      }
    }
    long[] out = Arrays.copyOf(heap, size);
    Arrays.sort(out);
    for (int i = 0, j = size - 1; i < j; i++, j--) {
      long tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }

  /**
   * e^x for x <= 0, relative error below 5e-7 (float precision), several times faster than {@link
   * Math#exp}: 2^(x log2 e) split into an integer power (exponent bits) and 2^f, |f| <= 1/2, by its
   * Taylor polynomial of degree 6. Underflows to 0 below -87.
   */
  static float expNonPositive(float x) {
    if (!(x >= -87f)) {
      return 0f; // also -inf and NaN
    }
    double t = x * 1.4426950408889634;
    int n = (int) (t - 0.5); // t <= 0: truncation toward zero rounds t to the nearest integer
    float f = (float) ((t - n) * 0.6931471805599453); // e^f with |f| <= ln2/2
    float p =
        1f + f * (1f + f * (0.5f + f * (1f / 6 + f * (1f / 24 + f * (1f / 120 + f * (1f / 720))))));
    return p * Float.intBitsToFloat((n + 127) << 23);
  }

  /** A long ordering by logit, then by lower id: larger key = better. */
  static long key(float logit, int id) {
    int bits = Float.floatToIntBits(logit);
    int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
    return ((long) sortable << 32) | ((~id) & 0xFFFFFFFFL);
  }

  static int idOf(long key) {
    return ~(int) key;
  }

  private static final class IntArray {
    int[] data = new int[64];
    int size;

    void add(int v) {
      if (size == data.length) {
        data = Arrays.copyOf(data, size * 2);
      }
      data[size++] = v;
    }
  }
}
