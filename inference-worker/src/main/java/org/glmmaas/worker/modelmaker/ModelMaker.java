package org.glmmaas.worker.modelmaker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.glmmaas.worker.gguf.GgmlType;
import org.glmmaas.worker.gguf.GgufWriter;
import org.glmmaas.worker.gguf.Quants;

/**
 * Makes random-weight GLM models as GGUF files that the native engine (and llama.cpp) load: weights
 * N(0, 0.02), norm weights 1, biases N(0, 0.02), a real BPE vocabulary with the GLM special tokens
 * and a GLM-4 chat template. Seeded: the same spec gives the same bytes. Q4_0 files keep {@code
 * output.weight} in Q6_K as llama.cpp's do (Q8_0 when rows are not a multiple of 256).
 */
public final class ModelMaker {

  /** What to make. */
  /**
   * @param tools true: the {@link #TOOLS_CHAT_TEMPLATE} and the FIM tokens (the demo model of
   *     {@code ./glm up}); false: the reference models' template and vocabulary
   */
  public record Spec(
      ModelArch arch, ModelPreset preset, WeightType type, long seed, boolean tools) {
    public Spec(ModelArch arch, ModelPreset preset, WeightType type, long seed) {
      this(arch, preset, type, seed, false);
    }
  }

  /** What was made. */
  public record Result(Path path, long bytes, long numParams, int numTensors) {}

  static final float WEIGHT_STD = 0.02f;

  /** The chat template of the GLM-4 reference models (renders like llama.cpp's chatglm4). */
  public static final String CHAT_TEMPLATE =
      "[gMASK]<sop>{% for message in messages %}"
          + "{% if message['role'] == 'system' %}<|system|>\n{{ message['content'] }}"
          + "{% elif message['role'] == 'user' %}<|user|>\n{{ message['content'] }}"
          + "{% elif message['role'] == 'assistant' %}<|assistant|>\n{{ message['content'] }}"
          + "{% elif message['role'] == 'observation' %}<|observation|>\n{{ message['content'] }}"
          + "{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

  /**
   * A GLM-4-chat-style template that also renders tools (GLM-4-9B-chat's layout: the functions as
   * JSON in a system turn; a call as {@code <|assistant|>name\n{arguments}}; a result as an {@code
   * <|observation|>} turn). The generation prompt is a bare {@code <|assistant|>}: the model then
   * writes either {@code \n} and text, or a function name and its arguments.
   */
  public static final String TOOLS_CHAT_TEMPLATE =
      "[gMASK]<sop>{% if tools %}<|system|>\n# Tools\n"
          + "{% for tool in tools %}## {{ tool.function.name }}\n\n"
          + "{{ tool.function | tojson }}\n"
          + "Call it with its arguments as a JSON object.\n"
          + "{% endfor %}{% endif %}"
          + "{% for m in messages %}"
          + "{% if m.role == 'system' %}<|system|>\n{{ m.content }}"
          + "{% elif m.role == 'user' %}<|user|>\n{{ m.content }}"
          + "{% elif m.role == 'assistant' %}"
          + "{% if m.content or not m.tool_calls %}<|assistant|>\n{{ m.content }}{% endif %}"
          + "{% for tc in m.tool_calls %}<|assistant|>{{ tc.function.name }}\n"
          + "{% if tc.function.arguments is string %}{{ tc.function.arguments }}"
          + "{% else %}{{ tc.function.arguments | tojson }}{% endif %}"
          + "{% endfor %}"
          + "{% elif m.role == 'tool' or m.role == 'observation' %}<|observation|>\n{{ m.content }}"
          + "{% else %}{{ raise_exception('unknown role: ' ~ m.role) }}"
          + "{% endif %}{% endfor %}"
          + "{% if add_generation_prompt %}<|assistant|>{% endif %}";

  private ModelMaker() {}

  public static Result make(Spec spec, Path out) throws IOException {
    if (spec.arch() == ModelArch.BERT || spec.preset().isEncoder()) {
      return makeBert(spec, out);
    }
    return make(
        spec,
        BpeVocabulary.build(
            spec.preset().vocabSize(),
            BpeVocabulary.DEFAULT_MERGES,
            spec.tools() ? BpeVocabulary.FIM_SPECIALS : List.of()),
        out);
  }

  /**
   * As {@link #make(Spec, Path)} with a given vocabulary (e.g. a synthetic one at GLM-4's real
   * size, 151,552 tokens with their merges); the preset's vocabSize must match it.
   */
  public static Result make(Spec spec, BpeVocabulary vocab, Path out) throws IOException {
    if (vocab.tokens().size() != spec.preset().vocabSize()) {
      throw new IllegalArgumentException(
          "vocabulary has "
              + vocab.tokens().size()
              + " tokens, the preset says "
              + spec.preset().vocabSize());
    }
    GgufWriter w = new GgufWriter();
    writeMetadata(w, spec, vocab);
    Counter params = new Counter();
    addTensors(w, spec, params);
    long bytes = w.write(out);
    return new Result(out, bytes, params.params, params.tensors);
  }

  /** An encoder (embedding) model in the layout llama.cpp's BertModel converter writes. */
  private static Result makeBert(Spec spec, Path out) throws IOException {
    ModelPreset p = spec.preset();
    if (spec.arch() != ModelArch.BERT || !p.isEncoder()) {
      throw new IllegalArgumentException(
          "--arch bert goes with the presets bert-tiny and bge-small, and they only with it");
    }
    if (spec.type() == WeightType.Q4_0) {
      throw new IllegalArgumentException("bert models are made as f32, f16 or q8_0");
    }
    WordPieceVocabulary v = WordPieceVocabulary.build(p.vocabSize());
    String a = "bert";
    GgufWriter w = new GgufWriter();
    w.putString("general.architecture", a)
        .putString("general.name", p.name() + "-" + spec.type().name().toLowerCase())
        .putUint32("general.file_type", spec.type().fileType)
        .putUint32(a + ".context_length", p.contextLength())
        .putUint32(a + ".embedding_length", p.embeddingLength())
        .putUint32(a + ".block_count", p.numLayers())
        .putUint32(a + ".feed_forward_length", p.feedForwardLength())
        .putUint32(a + ".attention.head_count", p.numHeads())
        .putFloat32(a + ".attention.layer_norm_epsilon", p.rmsNormEps())
        .putBool(a + ".attention.causal", false)
        .putUint32(a + ".pooling_type", 2) // CLS, as bge
        .putUint32("tokenizer.ggml.token_type_count", 2)
        .putString("tokenizer.ggml.model", "bert")
        .putString("tokenizer.ggml.pre", "bert-bge")
        .putStrings("tokenizer.ggml.tokens", v.tokens())
        .putInt32s("tokenizer.ggml.token_type", v.tokenTypes())
        .putUint32("tokenizer.ggml.bos_token_id", WordPieceVocabulary.CLS)
        .putUint32("tokenizer.ggml.eos_token_id", WordPieceVocabulary.SEP)
        .putUint32("tokenizer.ggml.unknown_token_id", WordPieceVocabulary.UNK)
        .putUint32("tokenizer.ggml.seperator_token_id", WordPieceVocabulary.SEP)
        .putUint32("tokenizer.ggml.padding_token_id", 0)
        .putUint32("tokenizer.ggml.mask_token_id", WordPieceVocabulary.MASK)
        .putBool("tokenizer.ggml.add_bos_token", true)
        .putBool("tokenizer.ggml.add_eos_token", true)
        .putBool("tokenizer.ggml.normalizer.lowercase", true);
    if (spec.type() == WeightType.Q8_0) {
      w.putUint32("general.quantization_version", 2);
    }
    Counter c = new Counter();
    GgmlType t = spec.type().ggml;
    int e = p.embeddingLength();
    int ff = p.feedForwardLength();
    c.weight(w, spec, "token_embd.weight", t, e, p.vocabSize());
    c.weight(w, spec, "token_types.weight", GgmlType.F32, e, 2);
    c.weight(w, spec, "position_embd.weight", GgmlType.F32, e, p.contextLength());
    c.norm(w, "token_embd_norm.weight", e);
    c.weight(w, spec, "token_embd_norm.bias", GgmlType.F32, e, 1);
    for (int l = 0; l < p.numLayers(); l++) {
      String b = "blk." + l + ".";
      for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_output"}) {
        c.weight(w, spec, b + m + ".weight", t, e, e);
        c.weight(w, spec, b + m + ".bias", GgmlType.F32, e, 1);
      }
      c.norm(w, b + "attn_output_norm.weight", e);
      c.weight(w, spec, b + "attn_output_norm.bias", GgmlType.F32, e, 1);
      c.weight(w, spec, b + "ffn_up.weight", t, e, ff);
      c.weight(w, spec, b + "ffn_up.bias", GgmlType.F32, ff, 1);
      c.weight(w, spec, b + "ffn_down.weight", t, ff, e);
      c.weight(w, spec, b + "ffn_down.bias", GgmlType.F32, e, 1);
      c.norm(w, b + "layer_output_norm.weight", e);
      c.weight(w, spec, b + "layer_output_norm.bias", GgmlType.F32, e, 1);
    }
    long bytes = w.write(out);
    return new Result(out, bytes, c.params, c.tensors);
  }

  private static void writeMetadata(GgufWriter w, Spec spec, BpeVocabulary v) {
    ModelPreset p = spec.preset();
    String a = spec.arch().ggufName;
    if (spec.arch() == ModelArch.CHATGLM && p.qDim() != p.embeddingLength()) {
      throw new IllegalArgumentException("chatglm needs n_head * head_dim == n_embd");
    }
    w.putString("general.architecture", a)
        .putString("general.name", p.name() + "-" + a + "-" + spec.type().name().toLowerCase())
        .putUint32("general.file_type", spec.type().fileType)
        .putUint32(a + ".context_length", p.contextLength())
        .putUint32(a + ".embedding_length", p.embeddingLength())
        .putUint32(a + ".block_count", p.numLayers())
        .putUint32(a + ".feed_forward_length", p.feedForwardLength())
        .putUint32(a + ".attention.head_count", p.numHeads())
        .putUint32(a + ".attention.head_count_kv", p.numKvHeads())
        .putFloat32(a + ".attention.layer_norm_rms_epsilon", p.rmsNormEps())
        .putUint32(a + ".rope.dimension_count", p.numRot())
        .putFloat32(a + ".rope.freq_base", p.ropeFreqBase());
    if (spec.arch() == ModelArch.GLM4 || spec.arch() == ModelArch.GLM4MOE) {
      w.putUint32(a + ".attention.key_length", p.headDim())
          .putUint32(a + ".attention.value_length", p.headDim());
    }
    if (spec.arch() == ModelArch.GLM4MOE) {
      // as llama.cpp's converter writes GLM-4.5 (sigmoid gating, normalised weights scaled 2.5)
      w.putUint32(a + ".expert_count", p.numExperts())
          .putUint32(a + ".expert_used_count", p.numExpertsUsed())
          .putUint32(a + ".expert_shared_count", p.numExpertsShared())
          .putUint32(a + ".expert_feed_forward_length", p.expertFeedForwardLength())
          .putUint32(a + ".leading_dense_block_count", p.numDenseLeadLayers())
          .putUint32(a + ".expert_gating_func", 2)
          .putFloat32(a + ".expert_weights_scale", 2.5f)
          .putBool(a + ".expert_weights_norm", true)
          .putUint32(a + ".nextn_predict_layers", 0);
    }
    if (spec.type() == WeightType.Q8_0 || spec.type() == WeightType.Q4_0) {
      w.putUint32("general.quantization_version", 2);
    }
    w.putString("tokenizer.ggml.model", "gpt2")
        .putString("tokenizer.ggml.pre", "glm4")
        .putStrings("tokenizer.ggml.tokens", v.tokens())
        .putInt32s("tokenizer.ggml.token_type", v.tokenTypes())
        .putStrings("tokenizer.ggml.merges", v.merges())
        .putUint32("tokenizer.ggml.eos_token_id", v.eosId())
        .putUint32("tokenizer.ggml.unknown_token_id", v.eosId())
        .putUint32("tokenizer.ggml.eot_token_id", v.eotId());
    if (spec.arch() == ModelArch.GLM4 || spec.arch() == ModelArch.GLM4MOE) {
      w.putUint32("tokenizer.ggml.bos_token_id", v.eosId());
    }
    w.putBool("tokenizer.ggml.add_bos_token", false)
        .putString("tokenizer.chat_template", spec.tools() ? TOOLS_CHAT_TEMPLATE : CHAT_TEMPLATE);
  }

  private static void addTensors(GgufWriter w, Spec spec, Counter c) {
    ModelPreset p = spec.preset();
    GgmlType t = spec.type().ggml;
    int e = p.embeddingLength();
    int v = p.vocabSize();
    c.weight(w, spec, "token_embd.weight", t, e, v);
    for (int l = 0; l < p.numLayers(); l++) {
      String b = "blk." + l + ".";
      c.norm(w, b + "attn_norm.weight", e);
      if (spec.arch() == ModelArch.CHATGLM) {
        int qkv = p.qDim() + 2 * p.kvDim();
        c.weight(w, spec, b + "attn_qkv.weight", t, e, qkv);
        c.weight(w, spec, b + "attn_qkv.bias", GgmlType.F32, qkv, 1);
      } else {
        c.weight(w, spec, b + "attn_q.weight", t, e, p.qDim());
        c.weight(w, spec, b + "attn_q.bias", GgmlType.F32, p.qDim(), 1);
        c.weight(w, spec, b + "attn_k.weight", t, e, p.kvDim());
        c.weight(w, spec, b + "attn_k.bias", GgmlType.F32, p.kvDim(), 1);
        c.weight(w, spec, b + "attn_v.weight", t, e, p.kvDim());
        c.weight(w, spec, b + "attn_v.bias", GgmlType.F32, p.kvDim(), 1);
      }
      c.weight(w, spec, b + "attn_output.weight", t, p.qDim(), e);
      if (spec.arch() == ModelArch.GLM4MOE) {
        addMoeFfn(w, spec, c, b, l);
        continue;
      }
      if (spec.arch() == ModelArch.GLM4) {
        c.norm(w, b + "post_attention_norm.weight", e);
      }
      c.norm(w, b + "ffn_norm.weight", e);
      c.weight(w, spec, b + "ffn_up.weight", t, e, 2 * p.feedForwardLength());
      c.weight(w, spec, b + "ffn_down.weight", t, p.feedForwardLength(), e);
      if (spec.arch() == ModelArch.GLM4) {
        c.norm(w, b + "post_ffw_norm.weight", e);
      }
    }
    c.norm(w, "output_norm.weight", e);
    GgmlType head = t;
    if (spec.type() == WeightType.Q4_0) {
      head = e % GgmlType.Q6_K.blockSize == 0 ? GgmlType.Q6_K : GgmlType.Q8_0;
    }
    c.weight(w, spec, "output.weight", head, e, v);
  }

  /** glm4moe's FFN of layer l: post_attention_norm (the pre-FFN norm), then dense or experts. */
  private static void addMoeFfn(GgufWriter w, Spec spec, Counter c, String b, int l) {
    ModelPreset p = spec.preset();
    GgmlType t = spec.type().ggml;
    int e = p.embeddingLength();
    c.norm(w, b + "post_attention_norm.weight", e);
    if (l < p.numDenseLeadLayers()) {
      c.weight(w, spec, b + "ffn_gate.weight", t, e, p.feedForwardLength());
      c.weight(w, spec, b + "ffn_up.weight", t, e, p.feedForwardLength());
      c.weight(w, spec, b + "ffn_down.weight", t, p.feedForwardLength(), e);
      return;
    }
    int nx = p.numExperts();
    int fe = p.expertFeedForwardLength();
    int fs = fe * p.numExpertsShared();
    // the router stays F32, as llama-quantize leaves it
    c.weight(w, spec, b + "ffn_gate_inp.weight", GgmlType.F32, e, nx);
    c.weight(w, spec, b + "exp_probs_b.bias", GgmlType.F32, nx, 1);
    c.experts(w, spec, b + "ffn_gate_exps.weight", t, e, fe, nx);
    c.experts(w, spec, b + "ffn_up_exps.weight", t, e, fe, nx);
    c.experts(w, spec, b + "ffn_down_exps.weight", t, fe, e, nx);
    c.weight(w, spec, b + "ffn_gate_shexp.weight", t, e, fs);
    c.weight(w, spec, b + "ffn_up_shexp.weight", t, e, fs);
    c.weight(w, spec, b + "ffn_down_shexp.weight", t, fs, e);
  }

  /** Adds tensors, counting them and their parameters. */
  private static final class Counter {
    long params;
    int tensors;

    void norm(GgufWriter w, String name, int n) {
      params += n;
      tensors++;
      w.addTensor(
          name,
          GgmlType.F32,
          new long[] {n},
          (row, dst) -> {
            for (int i = 0; i < n; i++) {
              dst.putFloat(1.0f);
            }
          });
    }

    /** A [in, out, n] tensor of n experts' [in, out] matrices, N(0, 0.02) values. */
    void experts(GgufWriter w, Spec spec, String name, GgmlType type, int in, int out, int n) {
      params += (long) in * out * n;
      int index = tensors++;
      long seed = spec.seed();
      w.addTensor(
          name,
          type,
          new long[] {in, out, n},
          (row, dst) -> randomRow(seed, index, row, in, type, dst));
    }

    /** A [in, out] tensor (out == 1: a 1-D bias of in values) of N(0, 0.02) values. */
    void weight(GgufWriter w, Spec spec, String name, GgmlType type, int in, int out) {
      long[] dims = out == 1 ? new long[] {in} : new long[] {in, out};
      params += (long) in * out;
      int index = tensors++;
      long seed = spec.seed();
      w.addTensor(name, type, dims, (row, dst) -> randomRow(seed, index, row, in, type, dst));
    }
  }

  private static void randomRow(
      long seed, int tensor, long row, int n, GgmlType type, ByteBuffer dst) {
    SplittableRandom rng =
        new SplittableRandom(
            seed * 0x9E3779B97F4A7C15L
                ^ (tensor + 1L) * 0xBF58476D1CE4E5B9L
                ^ (row + 1L) * 0x94D049BB133111EBL);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) rng.nextGaussian() * WEIGHT_STD;
    }
    Quants.quantizeRow(type, x, 0, n, dst);
  }
}
