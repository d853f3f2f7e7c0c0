package org.glmmaas.worker.engine.ffm;

/**
 * A loaded model's hyper-parameters as the native engine resolved them (glm_model_hparams).
 *
 * @param architecture "chatglm" or "glm4"
 * @param vocabSize tokens
 * @param contextLength training context, tokens
 * @param embeddingLength n_embd
 * @param numLayers n_layer
 * @param numHeads n_head
 * @param numKvHeads n_head_kv
 * @param headDim per head
 * @param numRot rotated dims per head
 * @param feedForwardLength width of one half of the fused FFN
 * @param ropeFreqBase RoPE base
 * @param rmsNormEps RMSNorm epsilon
 * @param fileType general.file_type, -1 when absent
 * @param numParams parameters, count
 * @param weightBytes bytes of all tensor data
 */
public record ModelHparams(
    String architecture,
    int vocabSize,
    int contextLength,
    int embeddingLength,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int numRot,
    int feedForwardLength,
    float ropeFreqBase,
    float rmsNormEps,
    int fileType,
    long numParams,
    long weightBytes) {}
