package org.glmmaas.worker.modelmaker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.glmmaas.worker.gguf.GgmlType;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;
import org.glmmaas.worker.gguf.Quants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelMakerTest {

  @TempDir Path dir;

  @Test
  void sameSeedSameBytesOtherSeedOtherWeights() throws Exception {
    var spec = new ModelMaker.Spec(ModelArch.GLM4, ModelPreset.TINY, WeightType.Q8_0, 5);
    Path a = dir.resolve("a.gguf");
    Path b = dir.resolve("b.gguf");
    Path c = dir.resolve("c.gguf");
    ModelMaker.make(spec, a);
    ModelMaker.make(spec, b);
    ModelMaker.make(new ModelMaker.Spec(ModelArch.GLM4, ModelPreset.TINY, WeightType.Q8_0, 6), c);
    assertThat(Files.mismatch(a, b)).isEqualTo(-1);
    assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
    assertThat(Files.size(a)).isEqualTo(Files.size(c));
  }

  @Test
  void glm4FileHasTheArchitecturesTensorsShapesAndTypes() throws Exception {
    Path f = dir.resolve("g.gguf");
    var r =
        ModelMaker.make(
            new ModelMaker.Spec(ModelArch.GLM4, ModelPreset.SMALL, WeightType.Q4_0, 1), f);
    GgufReader.GgufFile g = GgufReader.read(f);
    Map<String, GgufReader.TensorInfo> t =
        g.tensors().stream().collect(Collectors.toMap(GgufReader.TensorInfo::name, x -> x));
    assertThat(t).hasSize(3 + 4 * 13);
    assertThat(t.get("blk.3.attn_q.weight").dims()).containsExactly(256, 256);
    assertThat(t.get("blk.3.attn_k.weight").dims()).containsExactly(256, 128);
    assertThat(t.get("blk.0.attn_v.bias").dims()).containsExactly(128);
    assertThat(t.get("blk.0.ffn_up.weight").dims()).containsExactly(256, 1536);
    assertThat(t.get("blk.0.ffn_down.weight").dims()).containsExactly(768, 256);
    assertThat(t).containsKeys("blk.0.post_attention_norm.weight", "blk.0.post_ffw_norm.weight");
    assertThat(t.get("token_embd.weight").ggmlType()).isEqualTo(GgmlType.Q4_0.id);
    assertThat(t.get("output.weight").ggmlType()).isEqualTo(GgmlType.Q6_K.id);
    assertThat(t.get("blk.0.attn_norm.weight").ggmlType()).isEqualTo(GgmlType.F32.id);
    assertThat(r.numParams()).isEqualTo(3_938_560L);
    // about as big as llama.cpp's small-glm4-q4_0.gguf (2,395,968 bytes)
    assertThat(r.bytes()).isBetween(2_300_000L, 2_500_000L);

    GgufMetadata m = g.metadata();
    assertThat(m.string("general.architecture")).contains("glm4");
    assertThat(m.integer("glm4.embedding_length")).contains(256L);
    assertThat(m.integer("glm4.attention.head_count_kv")).contains(2L);
    assertThat(m.integer("glm4.rope.dimension_count")).contains(32L);
    assertThat(m.floating("glm4.attention.layer_norm_rms_epsilon")).contains((double) 1e-5f);
    assertThat(m.integer("general.file_type")).contains(2L);
  }

  @Test
  void theToolsFlavourCarriesFimTokensAndATemplateThatRendersTools() throws Exception {
    Path f = dir.resolve("t.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4, ModelPreset.TINY, WeightType.F32, 1, true), f);
    var text = org.glmmaas.worker.text.TextModel.fromMetadata(GgufReader.read(f).metadata());

    for (String fim : BpeVocabulary.FIM_SPECIALS) {
      assertThat(text.tokenizer().encode(fim, true)).as(fim).hasSize(1);
      assertThat(text.tokenizer().encode(fim, false).length).isGreaterThan(1);
    }
    String rendered =
        text.chatTemplate()
            .render(
                new org.glmmaas.worker.text.ChatInput(
                    List.of(new org.glmmaas.worker.text.ChatTurn("user", "hi")),
                    List.of(new org.glmmaas.worker.text.ToolSpec("f", "does f", "")),
                    null),
                true)
            .text();
    assertThat(rendered)
        .isEqualTo(
            "[gMASK]<sop><|system|>\n# Tools\n## f\n\n"
                + "{\"name\":\"f\",\"description\":\"does f\",\"parameters\":{\"type\":\"object\"}}\n"
                + "Call it with its arguments as a JSON object.\n<|user|>\nhi<|assistant|>");
  }

  @Test
  void chatglmHasFusedQkvWithBiasAndNoPostNorms() throws Exception {
    Path f = dir.resolve("c.gguf");
    ModelMaker.make(new ModelMaker.Spec(ModelArch.CHATGLM, ModelPreset.TINY, WeightType.F32, 1), f);
    GgufReader.GgufFile g = GgufReader.read(f);
    Set<String> names =
        g.tensors().stream().map(GgufReader.TensorInfo::name).collect(Collectors.toSet());
    assertThat(names)
        .contains("blk.1.attn_qkv.weight", "blk.1.attn_qkv.bias")
        .doesNotContain("blk.0.attn_q.weight", "blk.0.post_ffw_norm.weight");
    var qkv =
        g.tensors().stream()
            .filter(x -> x.name().equals("blk.0.attn_qkv.weight"))
            .findFirst()
            .orElseThrow();
    assertThat(qkv.dims()).containsExactly(128, 128 + 2 * 64);
    // weights really are N(0, 0.02) and norms 1
    ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    float[] w = new float[128 * 256];
    data.position((int) (g.dataOffset() + qkv.offset()));
    Quants.dequantizeRow(GgmlType.F32, data, w, 0, w.length);
    double sum = 0;
    double sq = 0;
    for (float v : w) {
      sum += v;
      sq += v * (double) v;
    }
    assertThat(sum / w.length).isBetween(-0.001, 0.001);
    assertThat(Math.sqrt(sq / w.length)).isBetween(0.019, 0.021);
  }

  @Test
  void vocabularyIsAConsistentGlmBpeVocabulary() throws Exception {
    Path f = dir.resolve("v.gguf");
    ModelMaker.make(new ModelMaker.Spec(ModelArch.GLM4, ModelPreset.TINY, WeightType.F32, 1), f);
    GgufMetadata m = GgufReader.read(f).metadata();
    List<String> tokens = m.strings("tokenizer.ggml.tokens").orElseThrow();
    List<String> merges = m.strings("tokenizer.ggml.merges").orElseThrow();
    int[] types = m.ints("tokenizer.ggml.token_type").orElseThrow();
    assertThat(tokens).hasSize(1536).doesNotHaveDuplicates();
    assertThat(types).hasSize(1536);
    assertThat(m.string("tokenizer.ggml.model")).contains("gpt2");
    assertThat(m.string("tokenizer.ggml.pre")).contains("glm4");
    assertThat(m.bool("tokenizer.ggml.add_bos_token")).contains(false);
    assertThat(tokens.get('a')).isEqualTo("a");
    assertThat(tokens.get(' ')).isEqualTo("Ġ");
    assertThat(tokens.get('\n')).isEqualTo("Ċ");
    assertThat(merges).hasSizeGreaterThan(1000);
    Set<String> vocab = new HashSet<>(tokens);
    for (String merge : merges) {
      String[] lr = merge.split(" ");
      assertThat(lr).as(merge).hasSize(2);
      assertThat(vocab).as(merge).contains(lr[0], lr[1], lr[0] + lr[1]);
    }
    int eos = Math.toIntExact(m.integer("tokenizer.ggml.eos_token_id").orElseThrow());
    int eot = Math.toIntExact(m.integer("tokenizer.ggml.eot_token_id").orElseThrow());
    assertThat(tokens.get(eos)).isEqualTo("<|endoftext|>");
    assertThat(tokens.get(eot)).isEqualTo("<|user|>");
    for (int i = 0; i < BpeVocabulary.SPECIALS.size(); i++) {
      assertThat(tokens.get(eos + i)).isEqualTo(BpeVocabulary.SPECIALS.get(i));
      assertThat(types[eos + i]).isEqualTo(3);
    }
    assertThat(types[1535]).isEqualTo(5);
    assertThat(m.string("tokenizer.chat_template"))
        .hasValueSatisfying(
            t -> assertThat(t).startsWith("[gMASK]<sop>").contains("<|assistant|>\n"));
  }

  @Test
  void glm4moeFileHasDenseLeadExpertsAndSharedExpert() throws Exception {
    Path f = dir.resolve("moe.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4MOE, ModelPreset.TINY, WeightType.Q8_0, 1), f);
    GgufReader.GgufFile g = GgufReader.read(f);
    Map<String, GgufReader.TensorInfo> t =
        g.tensors().stream().collect(Collectors.toMap(GgufReader.TensorInfo::name, x -> x));
    // layer 0 dense (separate gate/up), layer 1 MoE: 8 experts of width 352/4 = 88 -> 64
    assertThat(t.get("blk.0.ffn_gate.weight").dims()).containsExactly(128, 352);
    assertThat(t.get("blk.0.ffn_up.weight").dims()).containsExactly(128, 352);
    assertThat(t).doesNotContainKeys("blk.0.ffn_gate_inp.weight", "blk.1.ffn_up.weight");
    assertThat(t.get("blk.1.ffn_gate_inp.weight").dims()).containsExactly(128, 8);
    assertThat(t.get("blk.1.ffn_gate_inp.weight").ggmlType()).isEqualTo(GgmlType.F32.id);
    assertThat(t.get("blk.1.exp_probs_b.bias").dims()).containsExactly(8);
    assertThat(t.get("blk.1.ffn_gate_exps.weight").dims()).containsExactly(128, 64, 8);
    assertThat(t.get("blk.1.ffn_down_exps.weight").dims()).containsExactly(64, 128, 8);
    assertThat(t.get("blk.1.ffn_down_exps.weight").ggmlType()).isEqualTo(GgmlType.Q8_0.id);
    assertThat(t.get("blk.1.ffn_down_shexp.weight").dims()).containsExactly(64, 128);
    assertThat(t).containsKeys("blk.1.post_attention_norm.weight", "blk.1.attn_q.bias");
    GgufMetadata m = g.metadata();
    assertThat(m.string("general.architecture")).contains("glm4moe");
    assertThat(m.integer("glm4moe.expert_count")).contains(8L);
    assertThat(m.integer("glm4moe.expert_used_count")).contains(2L);
    assertThat(m.integer("glm4moe.leading_dense_block_count")).contains(1L);
    assertThat(m.bool("glm4moe.expert_weights_norm")).contains(true);
  }

  @Test
  void moeOneBillionPresetIsAboutOneBillionParameters() {
    ModelPreset p = ModelPreset.parse("moe-1b");
    long e = p.embeddingLength();
    long attn = e * (p.qDim() + 2L * p.kvDim()) + p.qDim() + 2L * p.kvDim() + (long) p.qDim() * e;
    long fe = p.expertFeedForwardLength();
    long moe = e * p.numExperts() + p.numExperts() + 3 * e * fe * (p.numExperts() + 1);
    long dense = 3 * e * p.feedForwardLength();
    int moeLayers = p.numLayers() - p.numDenseLeadLayers();
    long total = attn * p.numLayers() + dense + moe * moeLayers + 2L * p.vocabSize() * e;
    assertThat(total).isBetween(950_000_000L, 1_100_000_000L);
    assertThat(List.of(p.numExperts(), p.numExpertsUsed(), p.numExpertsShared()))
        .containsExactly(16, 2, 1);
  }

  @Test
  void oneBillionPresetIsThePerfBenchShape() {
    ModelPreset p = ModelPreset.parse("1b");
    long perLayer =
        (long) p.embeddingLength() * (p.qDim() + 2 * p.kvDim())
            + p.qDim()
            + 2L * p.kvDim()
            + (long) p.qDim() * p.embeddingLength()
            + 3L * p.embeddingLength() * p.feedForwardLength()
            + 4L * p.embeddingLength();
    long total =
        perLayer * p.numLayers() + 2L * p.vocabSize() * p.embeddingLength() + p.embeddingLength();
    assertThat(total).isBetween(1_065_000_000L, 1_075_000_000L);
    assertThat(
            List.of(
                p.embeddingLength(),
                p.numLayers(),
                p.numHeads(),
                p.numKvHeads(),
                p.headDim(),
                p.numRot(),
                p.feedForwardLength(),
                p.contextLength(),
                p.vocabSize()))
        .containsExactly(2048, 18, 16, 2, 128, 64, 6912, 4096, 32768);
  }
}
