package org.glmmaas.worker.engine;

/**
 * An embedding (encoder) model: whole inputs in, one pooled vector per input out
 * (docs/embeddings.md). Not thread-safe: one caller at a time.
 */
public interface Embedder extends AutoCloseable {

  /** Width of every vector. */
  int dimensions();

  /** Most tokens one input may have ({@code [CLS]} and {@code [SEP]} included). */
  int maxInputTokens();

  /**
   * The pooled, not normalised, vector of every input, in order; all inputs in one step.
   *
   * @throws EngineException for an empty or too long input (the message names its index) or an id
   *     outside the vocabulary
   */
  float[][] embed(int[][] inputs);

  @Override
  void close();

  /** {@code v / ||v||_2}, the norm accumulated in double (llama.cpp's --embd-normalize 2). */
  static float[] normalize(float[] v) {
    double sum = 0;
    for (float f : v) {
      sum += (double) f * f;
    }
    double norm = Math.sqrt(sum);
    float[] out = new float[v.length];
    float scale = norm > 0 ? (float) (1.0 / norm) : 0f;
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] * scale;
    }
    return out;
  }
}
