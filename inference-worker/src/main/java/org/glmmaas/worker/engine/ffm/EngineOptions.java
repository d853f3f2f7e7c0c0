package org.glmmaas.worker.engine.ffm;

/**
 * Parameters of a native engine context. Zero (or null for the device) means "the library's
 * default": 1 thread per core, blocks of 16 tokens, enough blocks for the training context, f16 KV,
 * 2048 tokens and 256 sequences per step.
 *
 * @param device "cpu" or "cuda:N"
 * @param numThreads compute threads of the engine's persistent pool
 * @param kvBlockSize tokens per KV block
 * @param numKvBlocks blocks in the KV pool
 * @param kvType KV storage type
 * @param maxBatchTokens most tokens one forward step may carry
 * @param maxBatchSeqs most sequences one forward step may carry
 */
public record EngineOptions(
    String device,
    int numThreads,
    int kvBlockSize,
    int numKvBlocks,
    KvType kvType,
    int maxBatchTokens,
    int maxBatchSeqs) {

  /** KV-cache storage type (enum glm_kv_type). */
  public enum KvType {
    F16(0),
    F32(1);

    final int code;

    KvType(int code) {
      this.code = code;
    }

    /** "f16" or "f32", any case. */
    public static KvType parse(String s) {
      return switch (s.toLowerCase(java.util.Locale.ROOT)) {
        case "f16" -> F16;
        case "f32" -> F32;
        default -> throw new IllegalArgumentException("kv type must be f16 or f32, not " + s);
      };
    }
  }

  public EngineOptions {
    if (numThreads < 0
        || kvBlockSize < 0
        || numKvBlocks < 0
        || maxBatchTokens < 0
        || maxBatchSeqs < 0) {
      throw new IllegalArgumentException("engine options must not be negative");
    }
  }

  public static EngineOptions defaults() {
    return new EngineOptions(null, 0, 0, 0, KvType.F16, 0, 0);
  }

  public EngineOptions withDevice(String v) {
    return new EngineOptions(
        v, numThreads, kvBlockSize, numKvBlocks, kvType, maxBatchTokens, maxBatchSeqs);
  }

  public EngineOptions withThreads(int v) {
    return new EngineOptions(
        device, v, kvBlockSize, numKvBlocks, kvType, maxBatchTokens, maxBatchSeqs);
  }

  public EngineOptions withKvBlockSize(int v) {
    return new EngineOptions(
        device, numThreads, v, numKvBlocks, kvType, maxBatchTokens, maxBatchSeqs);
  }

  public EngineOptions withKvBlocks(int v) {
    return new EngineOptions(
        device, numThreads, kvBlockSize, v, kvType, maxBatchTokens, maxBatchSeqs);
  }

  public EngineOptions withKvType(KvType v) {
    return new EngineOptions(
        device, numThreads, kvBlockSize, numKvBlocks, v, maxBatchTokens, maxBatchSeqs);
  }

  public EngineOptions withMaxBatchTokens(int v) {
    return new EngineOptions(device, numThreads, kvBlockSize, numKvBlocks, kvType, v, maxBatchSeqs);
  }

  public EngineOptions withMaxBatchSeqs(int v) {
    return new EngineOptions(
        device, numThreads, kvBlockSize, numKvBlocks, kvType, maxBatchTokens, v);
  }
}
