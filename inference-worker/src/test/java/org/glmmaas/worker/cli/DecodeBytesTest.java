package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.engine.ffm.NativeTensorInfo;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.junit.jupiter.api.Test;

/** The weights a batch-1 decode step streams, the denominator of the bandwidth bound. */
class DecodeBytesTest {

  static final int Q8_0 = 8, Q4_0 = 2, Q6_K = 14, F32 = 0;
  static final int PHASES = NativeGlmEngine.PROFILE_PHASES.size();

  static NativeTensorInfo t(String name, int type, long... dims) {
    return new NativeTensorInfo(name, type, dims);
  }

  @Test
  void countsEveryTensorOnceButTheEmbeddingTable() {
    List<NativeTensorInfo> ts =
        List.of(
            t("token_embd.weight", Q4_0, 256, 1000), // 1000 rows of 8 blocks of 18 bytes
            t("blk.0.attn_norm.weight", F32, 256),
            t("blk.0.attn_q.weight", Q8_0, 256, 256),
            t("blk.0.attn_k.weight", Q8_0, 256, 64),
            t("blk.0.attn_v.weight", Q8_0, 256, 64),
            t("blk.0.attn_output.weight", Q8_0, 256, 256),
            t("blk.0.ffn_up.weight", Q8_0, 256, 1024),
            t("blk.0.ffn_down.weight", Q8_0, 512, 256),
            t("output_norm.weight", F32, 256),
            t("output.weight", Q6_K, 256, 1000));
    DecodeBytes b = DecodeBytes.of(ts, new GgufMetadata(Map.of()), PHASES);
    long q8row = 256 / 32 * 34;
    assertThat(b.perPhase()[DecodeBytes.QKV]).isEqualTo(q8row * (256 + 64 + 64));
    assertThat(b.perPhase()[DecodeBytes.WO]).isEqualTo(q8row * 256);
    assertThat(b.perPhase()[DecodeBytes.FFN_UP]).isEqualTo(q8row * 1024);
    assertThat(b.perPhase()[DecodeBytes.FFN_DOWN]).isEqualTo(512 / 32 * 34 * 256);
    assertThat(b.perPhase()[DecodeBytes.NORM]).isEqualTo(2 * 256 * 4);
    assertThat(b.perPhase()[DecodeBytes.OUTPUT]).isEqualTo(210L * 1000); // one Q6_K block a row
    assertThat(b.perPhase()[DecodeBytes.EMBED]).isZero();
    // everything but token_embd, once
    long all = q8row * (256 + 64 + 64 + 256 + 1024) + 16 * 34 * 256 + 2 * 256 * 4 + 210L * 1000;
    assertThat(b.total()).isEqualTo(all);
  }

  @Test
  void aTiedHeadStreamsTheEmbeddingTable() {
    List<NativeTensorInfo> ts =
        List.of(t("token_embd.weight", Q8_0, 256, 1000), t("output_norm.weight", F32, 256));
    DecodeBytes b = DecodeBytes.of(ts, new GgufMetadata(Map.of()), PHASES);
    assertThat(b.perPhase()[DecodeBytes.OUTPUT]).isEqualTo(256 / 32 * 34 * 1000L);
  }

  @Test
  void expertsCountOnlyTheUsedShare() {
    List<NativeTensorInfo> ts =
        List.of(
            t("blk.1.ffn_gate_exps.weight", Q8_0, 256, 128, 8),
            t("blk.1.ffn_down_exps.weight", Q8_0, 128, 256, 8),
            t("blk.1.ffn_up_shexp.weight", Q8_0, 256, 128),
            t("output.weight", Q8_0, 256, 10));
    GgufMetadata meta =
        new GgufMetadata(
            Map.of(
                "general.architecture", "glm4moe",
                "glm4moe.expert_count", 8L,
                "glm4moe.expert_used_count", 2L));
    DecodeBytes b = DecodeBytes.of(ts, meta, PHASES);
    long expert = 256 / 32 * 34 * 128L; // one expert's gate (or down) matrix
    assertThat(b.perPhase()[DecodeBytes.FFN_UP]).isEqualTo(2 * (2 * expert) + expert);
    assertThat(b.perPhase()[DecodeBytes.FFN_DOWN]).isZero();
  }
}
