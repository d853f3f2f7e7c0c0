package org.glmmaas.worker.lifecycle;

import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.text.TextModel;

/** A model file opened for serving: its text side, and a factory for its engine context. */
public interface LoadedModel extends AutoCloseable {

  ModelDescription description();

  TextModel textModel();

  /** Bytes of one KV block (all layers, K and V) at this block size and KV type. */
  long kvBlockBytes(int blockSize, String dtype);

  /**
   * Creates the engine with a KV pool of {@code numKvBlocks} blocks of {@code blockSize} tokens.
   */
  Engine createEngine(int numKvBlocks, int blockSize, String dtype);

  @Override
  void close();
}
