package org.glmmaas.worker.engine;

/**
 * Facts about a loaded model and its context.
 *
 * @param architecture GGUF architecture, "chatglm" or "glm4"
 * @param vocabSize logits per row, tokens
 * @param contextLength the model's training context length, tokens
 * @param kvBlockSize tokens per KV block
 * @param numKvBlocks KV blocks in the pool
 * @param kvBlockBytes bytes of one KV block across all layers (K and V)
 * @param device "cpu" or "cuda:N"
 */
public record EngineInfo(
    String architecture,
    int vocabSize,
    int contextLength,
    int kvBlockSize,
    int numKvBlocks,
    long kvBlockBytes,
    String device) {}
