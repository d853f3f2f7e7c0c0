package org.glmmaas.worker.lifecycle;

/**
 * Static facts about the loaded model for ListModels and GetInfo.
 *
 * @param architecture "chatglm" or "glm4"
 * @param contextLength training context length, tokens
 * @param vocabSize tokens in the vocabulary
 * @param numParameters parameters, count
 * @param quantization dominant weight type, e.g. "Q4_0"
 */
public record ModelDescription(
    String architecture,
    int contextLength,
    int vocabSize,
    long numParameters,
    String quantization) {}
