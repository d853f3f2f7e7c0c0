package org.glmmaas.worker.modelmaker;

import java.util.List;
import java.util.Locale;

/**
 * A model shape. {@code tiny} and {@code small} are the shapes of the reference models; {@code 1b}
 * is the bench model of docs/performance.md (GLM-4 proportions, 1.07 B parameters).
 *
 * @param name preset name
 * @param embeddingLength n_embd
 * @param numLayers n_layer
 * @param numHeads n_head
 * @param numKvHeads n_head_kv
 * @param headDim per head
 * @param numRot rotated dims per head
 * @param feedForwardLength one half of the fused FFN
 * @param contextLength training context
 * @param vocabSize tokens (a small BPE vocabulary padded to this)
 * @param ropeFreqBase RoPE base
 * @param rmsNormEps RMSNorm epsilon
 */
public record ModelPreset(
    String name,
    int embeddingLength,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int numRot,
    int feedForwardLength,
    int contextLength,
    int vocabSize,
    float ropeFreqBase,
    float rmsNormEps) {

  public static final ModelPreset TINY =
      new ModelPreset("tiny", 128, 2, 4, 2, 32, 16, 352, 512, 1536, 10000f, 1e-5f);
  public static final ModelPreset SMALL =
      new ModelPreset("small", 256, 4, 4, 2, 64, 32, 768, 1024, 1536, 10000f, 1e-5f);
  public static final ModelPreset ONE_B =
      new ModelPreset("1b", 2048, 18, 16, 2, 128, 64, 6912, 4096, 32768, 10000f, 1e-5f);

  /**
   * The MoE bench model (docs/moe.md): n_embd 1024, 13 layers (1 dense with n_ff 4096, then 12 MoE
   * layers of 16 experts, 2 used, + 1 shared expert, expert n_ff 1408), 16/4 heads of 64, 32
   * rotated dims; about 1.0 B parameters, about 0.14 B active per token.
   */
  public static final ModelPreset MOE_1B =
      new ModelPreset("moe-1b", 1024, 13, 16, 4, 64, 32, 4096, 4096, 32768, 10000f, 1e-5f);

  /**
   * The scaling-grid model (docs/performance.md, "Scaling"): the 1b's attention (16/2 heads of 128,
   * 64 rotated dims, so the same KV bytes per token per layer) and vocabulary in 4 layers with n_ff
   * 2048 and an 8,192-token context, about 0.23 B parameters: small enough that 64 streams of
   * 4,096-token prompts run in minutes on 2 cores.
   */
  public static final ModelPreset SCALE =
      new ModelPreset("scale", 2048, 4, 16, 2, 128, 64, 2048, 8192, 32768, 10000f, 1e-5f);

  public static final List<ModelPreset> ALL = List.of(TINY, SMALL, ONE_B, MOE_1B, SCALE);

  /**
   * Encoder (bert) shapes: {@code bert-tiny} is the shape of the reference2 tiny-bert model; {@code
   * bge-small} is bge-small-zh-v1.5's (n_embd 512, 4 layers, 8 heads, n_ff 2048, 512 positions)
   * with an 8,192-token WordPiece vocabulary. rmsNormEps is the LayerNorm epsilon.
   */
  public static final ModelPreset BERT_TINY =
      new ModelPreset("bert-tiny", 128, 2, 4, 4, 32, 0, 512, 512, 8192, 0f, 1e-12f);

  public static final ModelPreset BGE_SMALL =
      new ModelPreset("bge-small", 512, 4, 8, 8, 64, 0, 2048, 512, 8192, 0f, 1e-12f);

  public static final List<ModelPreset> ENCODERS = List.of(BERT_TINY, BGE_SMALL);

  public boolean isEncoder() {
    return ENCODERS.contains(this);
  }

  public static ModelPreset parse(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return java.util.stream.Stream.concat(ALL.stream(), ENCODERS.stream())
        .filter(p -> p.name.equals(n))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown preset '"
                        + name
                        + "': tiny, small, 1b, moe-1b, bert-tiny or bge-small"));
  }

  /** glm4moe experts: total, used per token, shared. */
  public int numExperts() {
    return this == MOE_1B ? 16 : 8;
  }

  public int numExpertsUsed() {
    return 2;
  }

  public int numExpertsShared() {
    return 1;
  }

  /** glm4moe: one expert's FFN width (the shared expert's too). */
  public int expertFeedForwardLength() {
    return this == MOE_1B ? 1408 : Math.max(32, feedForwardLength / 4 / 32 * 32);
  }

  /** glm4moe: leading dense layers. */
  public int numDenseLeadLayers() {
    return 1;
  }

  public int qDim() {
    return numHeads * headDim;
  }

  public int kvDim() {
    return numKvHeads * headDim;
  }
}
