package org.glmmaas.worker.lifecycle;

import org.glmmaas.worker.engine.Embedder;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.text.TextModel;
import org.glmmaas.worker.text.WordPieceTokenizer;

/**
 * A loaded embedding (encoder) model: its WordPiece tokenizer and a factory for its {@link
 * Embedder}. It has no chat text side and no KV cache (docs/embeddings.md, "Serving").
 */
public interface EmbeddingModel extends LoadedModel {

  WordPieceTokenizer tokenizer();

  /** Width of the vectors. */
  int dimensions();

  /** Most tokens of one input, [CLS] and [SEP] included. */
  int maxInputTokens();

  /** Whether the vectors may be cut to fewer dimensions (GGUF {@code <arch>.matryoshka}). */
  boolean matryoshka();

  /** Creates the engine side: a context that takes up to {@code maxBatchTokens} per step. */
  Embedder createEmbedder(int maxBatchTokens);

  @Override
  default TextModel textModel() {
    return null;
  }

  @Override
  default long kvBlockBytes(int blockSize, String dtype) {
    return 0;
  }

  @Override
  default Engine createEngine(int numKvBlocks, int blockSize, String dtype) {
    throw new UnsupportedOperationException("an embedding model has no generative engine");
  }
}
