package org.glmmaas.worker.api;

import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.lifecycle.LoadedModel;
import org.glmmaas.worker.lifecycle.ModelDescription;
import org.glmmaas.worker.lifecycle.ModelLoader;
import org.glmmaas.worker.scheduler.FakeEngine;
import org.glmmaas.worker.scheduler.FakeTextModel;
import org.glmmaas.worker.text.TextModel;

/** Loads a {@link FakeEngine} with a {@link FakeTextModel}; one KV block costs 1 KiB. */
public class FakeModelLoader implements ModelLoader {

  public static final int VOCAB = 64;
  public volatile FakeEngine engine;
  private final java.util.function.Supplier<TextModel> textModel;

  public FakeModelLoader() {
    this(() -> new FakeTextModel(VOCAB));
  }

  /** A fake engine behind the given text model (e.g. a real tokenizer and chat template). */
  public FakeModelLoader(java.util.function.Supplier<TextModel> textModel) {
    this.textModel = textModel;
  }

  @Override
  public LoadedModel load(WorkerProperties properties) {
    TextModel text = textModel.get();
    int vocab = text.tokenizer().vocabSize();
    return new LoadedModel() {
      @Override
      public ModelDescription description() {
        return new ModelDescription("glm4", 4096, vocab, 1234L, "F32");
      }

      @Override
      public TextModel textModel() {
        return text;
      }

      @Override
      public long kvBlockBytes(int blockSize, String dtype) {
        return 1024;
      }

      @Override
      public Engine createEngine(int numKvBlocks, int blockSize, String dtype) {
        engine = new FakeEngine(vocab, blockSize, numKvBlocks);
        return engine;
      }

      @Override
      public void close() {}
    };
  }
}
