package org.glmmaas.worker.lifecycle;

import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.Embedder;
import org.glmmaas.worker.engine.ffm.NativeEmbedder;
import org.glmmaas.worker.engine.ffm.NativeGlmModel;
import org.glmmaas.worker.text.WordPieceTokenizer;

/** An embedding model served by the native engine ({@code glm_embed}). */
record NativeEmbeddingModel(
    NativeGlmModel model,
    ModelDescription description,
    WordPieceTokenizer tokenizer,
    int maxInputTokens,
    boolean matryoshka,
    int threads)
    implements EmbeddingModel {

  static NativeEmbeddingModel of(NativeGlmModel model, WorkerProperties props) {
    var hp = model.hparams();
    WordPieceTokenizer tok;
    try {
      tok = WordPieceTokenizer.fromMetadata(model.metadata());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("embedding model " + model.path() + ": " + e.getMessage(), e);
    }
    int maxInput = NativeEmbedder.maxInputTokens(model);
    boolean matryoshka = model.metadata().bool(hp.architecture() + ".matryoshka").orElse(false);
    ModelDescription d =
        new ModelDescription(
            hp.architecture(),
            maxInput,
            hp.vocabSize(),
            hp.numParams(),
            NativeModelLoader.quantization(hp.fileType()),
            ModelDescription.KIND_EMBEDDING,
            hp.embeddingLength());
    return new NativeEmbeddingModel(model, d, tok, maxInput, matryoshka, props.effectiveThreads());
  }

  @Override
  public int dimensions() {
    return description.embeddingDimensions();
  }

  @Override
  public Embedder createEmbedder(int maxBatchTokens) {
    return NativeEmbedder.over(model, threads, maxBatchTokens);
  }

  @Override
  public void close() {
    model.close();
  }
}
