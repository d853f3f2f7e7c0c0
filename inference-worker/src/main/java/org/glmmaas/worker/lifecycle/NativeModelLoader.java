package org.glmmaas.worker.lifecycle;

import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.engine.ffm.EngineOptions;
import org.glmmaas.worker.engine.ffm.ModelHparams;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.text.TextModel;

/**
 * Loads a GGUF file with the native engine. A small probe context reads the hyper-parameters,
 * the metadata (for the text model) and the bytes of one KV block; the serving context is then
 * created with the pool the memory budget allows.
 */
public final class NativeModelLoader implements ModelLoader {

  private static final int PROBE_BLOCKS = 4;

  @Override
  public LoadedModel load(WorkerProperties props) {
    Path path = Path.of(props.model());
    if (!Files.isReadable(path)) {
      throw new IllegalStateException("model file " + path + " does not exist or is not readable");
    }
    if (!NativeGlmEngine.isAvailable()) {
      throw new IllegalStateException("the native engine library is not available: " + NativeGlmEngine.unavailableReason());
    }
    EngineOptions base = EngineOptions.defaults()
        .withDevice(props.device())
        .withThreads(props.effectiveThreads())
        .withKvBlockSize(props.kvCache().blockSize())
        .withKvType(EngineOptions.KvType.parse(props.kvCache().dtype()))
        .withMaxBatchTokens(props.scheduler().maxNumBatchedTokens())
        .withMaxBatchSeqs(props.scheduler().maxNumSeqs());
    ModelHparams hparams;
    GgufMetadata metadata;
    long blockBytes;
    try (NativeGlmEngine probe = NativeGlmEngine.open(path, base.withKvBlocks(PROBE_BLOCKS))) {
      hparams = probe.hparams();
      metadata = probe.metadata();
      blockBytes = probe.info().kvBlockBytes();
    }
    TextModel text = TextModel.fromMetadata(metadata);
    ModelDescription description = new ModelDescription(hparams.architecture(), hparams.contextLength(),
        hparams.vocabSize(), hparams.numParams(), quantization(hparams.fileType()));
    return new LoadedModel() {
      @Override
      public ModelDescription description() {
        return description;
      }

      @Override
      public TextModel textModel() {
        return text;
      }

      @Override
      public long kvBlockBytes(int blockSize, String dtype) {
        if (blockSize != props.kvCache().blockSize() || !dtype.equals(props.kvCache().dtype())) {
          throw new IllegalArgumentException("KV geometry differs from the probed one");
        }
        return blockBytes;
      }

      @Override
      public Engine createEngine(int numKvBlocks, int blockSize, String dtype) {
        return NativeGlmEngine.open(path, base.withKvBlocks(numKvBlocks).withKvBlockSize(blockSize)
            .withKvType(EngineOptions.KvType.parse(dtype)));
      }

      @Override
      public void close() {}
    };
  }

  /** The llama.cpp name of general.file_type. */
  static String quantization(int fileType) {
    return switch (fileType) {
      case 0 -> "F32";
      case 1 -> "F16";
      case 2 -> "Q4_0";
      case 3 -> "Q4_1";
      case 7 -> "Q8_0";
      case 14 -> "Q4_K_S";
      case 15 -> "Q4_K_M";
      case 18 -> "Q6_K";
      case 32 -> "BF16";
      default -> fileType < 0 ? "unknown" : "type-" + fileType;
    };
  }
}
