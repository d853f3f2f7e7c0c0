package org.glmmaas.worker.text;

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
 *   <li>greedy ({@code do_sample=false} or temperature 0): the largest logit, ties to the lowest id;
 *   <li>otherwise: temperature, then top-k, top-p (the smallest most-probable prefix whose mass
 *       reaches top_p, over the top-k set), then min-p (relative to the most probable token), then
 *       one draw from the request's own seeded random stream.
 * </ol>
 *
 * <p>Logprobs are the log-softmax of the final distribution the token was drawn from (greedy: the
 * penalized logits over the whole vocabulary). Nothing sorts the whole vocabulary unless top-p
 * needs most of it: top-k and top-p use partial selection of packed (logit, id) keys.
 *
 * <p>Not thread-safe: one instance per request, used by the engine thread.
 */
public final class LogitsSampler implements Sampler {

  private static final int FIRST_TOP_P_PREFIX = 64;

  private final SamplingConfig config;
  private final int vocabSize;
  private final SplittableRandom random;
  private final boolean repetition;
  private final boolean additive;
  private final int[] generatedCount;
  private final boolean[] seen;
  private final IntArray touched = new IntArray();
  private float[] work;
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
      throw new IllegalArgumentException("token id " + tokenId + " outside the vocabulary 0.." + (vocabSize - 1));
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
          "logits row [" + offset + ", " + (offset + vocabSize) + ") outside the buffer of " + logits.limit());
    }
    float[] row = penalizedRow(logits, offset);
    if (config.greedy()) {
      return greedy(row);
    }
    return sampled(row);
  }

  /** The row with penalties applied, in this sampler's own array (the engine's buffer is never written). */
  private float[] penalizedRow(FloatBuffer logits, int offset) {
    if (work == null) {
      work = new float[vocabSize];
    }
    logits.get(offset, work, 0, vocabSize);
    for (int i = 0; i < vocabSize; i++) {
      if (Float.isNaN(work[i])) {
        work[i] = Float.NEGATIVE_INFINITY;
      }
    }
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
    float bestValue = row[0];
    for (int i = 1; i < vocabSize; i++) {
      if (row[i] > bestValue) {
        bestValue = row[i];
        best = i;
      }
    }
    if (!config.logprobs() && config.topLogprobs() == 0) {
      return new Sample(best, 0f, List.of());
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
    float t = config.temperature();
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocabSize; i++) {
      float v = row[i] / t;
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
    float minLogit = config.minP() > 0f ? max + (float) Math.log(config.minP()) : Float.NEGATIVE_INFINITY;

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
      // top-p over the whole vocabulary: a growing sorted prefix, rarely the whole of it
      double z = sumExp(row, max);
      int m = FIRST_TOP_P_PREFIX;
      while (true) {
        sorted = topKeys(row, null, vocabSize, m);
        n = nucleus(sorted, row, max, z);
        if (n > 0 || m >= vocabSize) {
          break;
        }
        m = (int) Math.min((long) vocabSize, (long) m * 8);
      }
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
        config.topLogprobs() > 0 ? alternatives(sorted, Math.min(end, config.topLogprobs()), row, logZ) : List.of();
    return new Sample(chosen, (float) (row[chosen] - logZ), top);
  }

  /** Neither top-k nor top-p: one pass for the mass, one for the draw. */
  private Sample drawUnsorted(float[] row, float max, float minLogit) {
    double z = 0;
    for (int i = 0; i < vocabSize; i++) {
      if (row[i] >= minLogit) {
        z += Math.exp(row[i] - max);
      }
    }
    double u = random.nextDouble() * z;
    double acc = 0;
    int chosen = -1;
    int last = -1;
    for (int i = 0; i < vocabSize; i++) {
      if (row[i] >= minLogit && row[i] > Float.NEGATIVE_INFINITY) {
        last = i;
        acc += Math.exp(row[i] - max);
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

  private static double sumExp(float[] row, float max) {
    double z = 0;
    for (float v : row) {
      z += Math.exp(v - max);
    }
    return z;
  }

  private static double logSumExp(float[] row, float max, int[] ids, int n) {
    double z = 0;
    for (int i = 0; i < n; i++) {
      z += Math.exp(row[ids == null ? i : ids[i]] - max);
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
