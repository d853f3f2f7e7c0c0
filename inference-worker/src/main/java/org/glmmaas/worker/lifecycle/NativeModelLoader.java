package org.glmmaas.worker.lifecycle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.CpuList;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.engine.ffm.EngineOptions;
import org.glmmaas.worker.engine.ffm.ModelHparams;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.engine.ffm.NativeGlmModel;
import org.glmmaas.worker.gguf.GgufFileType;
import org.glmmaas.worker.text.TextModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a GGUF file with the native engine. The file is memory-mapped and validated first, with no
 * context: the hyper-parameters, the metadata (for the text model) and the bytes of one KV block
 * are read, the {@link MemoryPlan} is checked against the {@link AvailableMemory}, and only then
 * does {@link LoadedModel#createEngine} create the serving context (repacked weights, KV pool,
 * threads pinned to {@code glm.worker.cpu-affinity} when set) over the same mapping.
 */
public final class NativeModelLoader implements ModelLoader {

  private static final Logger log = LoggerFactory.getLogger(NativeModelLoader.class);

  private final AvailableMemory available;

  public NativeModelLoader() {
    this(AvailableMemory.system());
  }

  public NativeModelLoader(AvailableMemory available) {
    this.available = available;
  }

  @Override
  public LoadedModel load(WorkerProperties props) {
    Path path = Path.of(props.model());
    if (!Files.isReadable(path)) {
      throw new IllegalStateException("model file " + path + " does not exist or is not readable");
    }
    if (!NativeGlmEngine.isAvailable()) {
      throw new IllegalStateException(
          "the native engine library is not available: " + NativeGlmEngine.unavailableReason());
    }
    CpuList affinity = props.cpuAffinity().isBlank() ? null : CpuList.parse(props.cpuAffinity());
    EngineOptions base =
        EngineOptions.defaults()
            .withDevice(props.device())
            .withThreads(props.effectiveThreads())
            .withKvBlockSize(props.kvCache().blockSize())
            .withKvType(EngineOptions.KvType.parse(props.kvCache().dtype()))
            .withMaxBatchTokens(props.scheduler().maxNumBatchedTokens())
            .withMaxBatchSeqs(props.scheduler().maxNumSeqs());
    NativeGlmModel model = NativeGlmModel.open(path);
    try {
      ModelHparams hparams = model.hparams();
      if (hparams.architecture().equals("bert")) {
        return NativeEmbeddingModel.of(model, props); // an embedding model: no KV, no chat side
      }
      long blockBytes =
          model.kvBlockBytes(
              props.kvCache().blockSize(), EngineOptions.KvType.parse(props.kvCache().dtype()));
      MemoryPlan.MoeShape moe = MemoryPlan.MoeShape.of(model.metadata());
      if (checkMemory(props, path, hparams, blockBytes, model.expertBytes(), moe)) {
        model.setExpertsFromDisk(true);
      }
      TextModel text = TextModel.fromMetadata(model.metadata());
      ModelDescription description =
          new ModelDescription(
              hparams.architecture(),
              hparams.contextLength(),
              hparams.vocabSize(),
              hparams.numParams(),
              quantization(hparams.fileType()));
      return new Loaded(model, description, text, blockBytes, props, base, affinity);
    } catch (RuntimeException | Error e) {
      model.close();
      throw e;
    }
  }

  /**
   * Refuses, with numbers, a KV budget below one block or a model that does not fit; returns true
   * when a mixture-of-experts model fits only with its routed experts left on disk.
   */
  private boolean checkMemory(
      WorkerProperties props,
      Path path,
      ModelHparams hp,
      long blockBytes,
      long expertBytes,
      MemoryPlan.MoeShape moe) {
    MemoryPlan plan = plan(props, path, hp, blockBytes, expertBytes, moe);
    if (!props.device().equals("cpu")) {
      log.info("memory plan (host side not checked on {}): {}", props.device(), plan.summary());
      return false;
    }
    Optional<AvailableMemory.Reading> avail = available.read();
    if (avail.isEmpty()) {
      log.info("memory plan (available memory unknown here, not checked): {}", plan.summary());
      return false;
    }
    String refusal = plan.refusal(avail.get());
    if (refusal != null) {
      throw new IllegalStateException(refusal);
    }
    if (plan.needsExpertsFromDisk(avail.get())) {
      log.warn(plan.expertsFromDiskWarning(avail.get()));
      return true;
    }
    String warning = plan.loadWarning(avail.get());
    if (warning != null) {
      log.warn(warning);
    }
    log.info(
        "memory plan: {}; {} available ({})",
        plan.summary(),
        MemoryPlan.gb(avail.get().bytes()),
        avail.get().source());
    return false;
  }

  /**
   * The memory plan of serving this model with these properties; refuses a KV budget below one
   * block.
   */
  static MemoryPlan plan(
      WorkerProperties props,
      Path path,
      ModelHparams hp,
      long blockBytes,
      long expertBytes,
      MemoryPlan.MoeShape moe) {
    var kv = props.kvCache();
    long budget = kv.memory().toBytes();
    if (budget < blockBytes) {
      throw new IllegalStateException(
          String.format(
              java.util.Locale.ROOT,
              "glm.worker.kv-cache.memory (%d bytes) is below one KV block of %s (%d tokens x %d layers"
                  + " x K and V = %d bytes); raise it to at least %d bytes (one %d-token sequence needs %d)",
              budget,
              path.getFileName(),
              kv.blockSize(),
              hp.numLayers(),
              blockBytes,
              blockBytes,
              hp.contextLength(),
              (long) Math.ceilDiv(hp.contextLength(), kv.blockSize()) * blockBytes));
    }
    long numBlocks = Math.min(budget / blockBytes, Integer.MAX_VALUE / kv.blockSize());
    long kvBytes = numBlocks * blockBytes;
    int wanted =
        props.scheduler().maxModelLen() > 0 ? props.scheduler().maxModelLen() : hp.contextLength();
    long maxModelLen = Math.min(wanted, numBlocks * kv.blockSize());
    long scratch =
        MemoryPlan.scratchBytes(
                hp.embeddingLength(),
                (long) hp.numHeads() * hp.headDim(),
                (long) hp.numKvHeads() * hp.headDim(),
                hp.feedForwardLength(),
                hp.vocabSize(),
                props.scheduler().maxNumBatchedTokens(),
                props.scheduler().maxNumSeqs(),
                maxModelLen,
                props.effectiveThreads())
            + MemoryPlan.moeScratchBytes(
                hp.embeddingLength(), moe, props.scheduler().maxNumBatchedTokens());
    return new MemoryPlan(
        path.getFileName().toString(), hp.weightBytes(), kvBytes, scratch, expertBytes);
  }

  private record Loaded(
      NativeGlmModel model,
      ModelDescription description,
      TextModel textModel,
      long blockBytes,
      WorkerProperties props,
      EngineOptions base,
      CpuList affinity)
      implements LoadedModel {

    @Override
    public long kvBlockBytes(int blockSize, String dtype) {
      if (blockSize != props.kvCache().blockSize() || !dtype.equals(props.kvCache().dtype())) {
        return model.kvBlockBytes(blockSize, EngineOptions.KvType.parse(dtype));
      }
      return blockBytes;
    }

    @Override
    public Engine createEngine(int numKvBlocks, int blockSize, String dtype) {
      return model.newEngine(
          base.withKvBlocks(numKvBlocks)
              .withKvBlockSize(blockSize)
              .withKvType(EngineOptions.KvType.parse(dtype)),
          affinity);
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /** The llama.cpp name of general.file_type (enum llama_ftype). */
  static String quantization(int fileType) {
    return GgufFileType.name(fileType);
  }
}
