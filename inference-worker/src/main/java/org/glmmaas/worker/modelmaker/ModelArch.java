package org.glmmaas.worker.modelmaker;

import java.util.Locale;

/** The two GLM architectures and the BERT-family encoder, as llama.cpp names them. */
public enum ModelArch {
  /** ChatGLM / GLM-4-9B-chat: fused attn_qkv with bias, no post-norms. */
  CHATGLM("chatglm"),
  /** GLM-4-0414: separate q/k/v with biases, post-attention and post-FFN norms. */
  GLM4("glm4"),
  /**
   * GLM-4.5 / GLM-4.6 mixture of experts: a leading dense layer, then routed experts (sigmoid
   * router + selection bias) and a shared expert per layer (docs/moe.md).
   */
  GLM4MOE("glm4moe"),
  /**
   * BERT-family embedding model (e.g. bge-small-zh): post-LayerNorm encoder, WordPiece vocabulary.
   */
  BERT("bert");

  public final String ggufName;

  ModelArch(String ggufName) {
    this.ggufName = ggufName;
  }

  public static ModelArch parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "chatglm" -> CHATGLM;
      case "glm4" -> GLM4;
      case "glm4moe" -> GLM4MOE;
      case "bert" -> BERT;
      default ->
          throw new IllegalArgumentException(
              "unknown architecture '" + s + "': glm4, glm4moe, chatglm or bert");
    };
  }
}
