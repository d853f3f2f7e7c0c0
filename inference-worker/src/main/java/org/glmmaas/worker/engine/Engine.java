package org.glmmaas.worker.engine;

import java.nio.FloatBuffer;

/**
 * What the scheduler sees of a model runtime: one forward step over a mixed batch of many
 * sequences. Implementations own the weights and the KV block pool; the caller owns requests, block
 * accounting (which block holds which tokens) and sampling.
 *
 * <p>All calls happen on one engine thread. {@code NativeGlmEngine} is the real implementation;
 * tests use a scripted fake.
 */
public interface Engine extends AutoCloseable {

  /** Static facts about the loaded model and the KV pool. */
  EngineInfo info();

  /**
   * Runs one step. Every token of {@code batch} is embedded and run through all layers at its
   * position, its K/V written to its slot before attention; each token attends to positions
   * 0..position of its own sequence, read through that sequence's block table.
   *
   * @return logits of the rows {@code batch.logitRows()} asked for, row-major ({@code
   *     logitRows().length * info().vocabSize()} floats, row i for logitRows()[i]). The buffer is
   *     owned by the engine and valid until the next call.
   * @throws EngineException when the engine rejects the batch or fails; the KV contents of the
   *     sequences in the batch are then undefined (the caller must recompute them).
   */
  FloatBuffer forward(ForwardBatch batch);

  @Override
  void close();
}
