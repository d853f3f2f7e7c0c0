package org.glmmaas.worker.lifecycle;

/**
 * Static facts about the loaded model for ListModels and GetInfo.
 *
 * @param architecture "chatglm" or "glm4"
 * @param contextLength training context length, tokens
 * @param vocabSize tokens in the vocabulary
 * @param numParameters parameters, count
 * @param quantization dominant weight type, e.g. "Q4_0"
 * @param kind "chat" (generative) or "embedding" (an encoder)
 * @param embeddingDimensions width of an embedding model's vectors, 0 for chat models
 */
public record ModelDescription(
    String architecture,
    int contextLength,
    int vocabSize,
    long numParameters,
    String quantization,
    String kind,
    int embeddingDimensions) {

  public static final String KIND_CHAT = "chat";
  public static final String KIND_EMBEDDING = "embedding";

  /** A chat (generative) model. */
  public ModelDescription(
      String architecture,
      int contextLength,
      int vocabSize,
      long numParameters,
      String quantization) {
    this(architecture, contextLength, vocabSize, numParameters, quantization, KIND_CHAT, 0);
  }
}
