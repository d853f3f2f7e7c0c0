package org.glmmaas.worker.cli;

import java.util.List;
import org.glmmaas.worker.engine.ffm.NativeTensorInfo;
import org.glmmaas.worker.gguf.GgmlType;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * Bytes of weights one batch-1 decode step streams from memory, per {@code glm_profile_phase}:
 * every tensor once, except {@code token_embd} (one row is read per token) unless the model has no
 * {@code output} tensor and the head reuses it; expert tensors ({@code *_exps}) count the used
 * share ({@code expert_used_count / expert_count}) of their bytes. The bandwidth bound of batch-1
 * decode is the machine's bandwidth over {@link #total()}.
 *
 * @param perPhase bytes per phase, in {@code NativeGlmEngine.PROFILE_PHASES} order
 */
record DecodeBytes(long[] perPhase) {

  static final int EMBED = 0, NORM = 1, QKV = 2, WO = 5, FFN_UP = 6, FFN_DOWN = 8, OUTPUT = 9;

  long total() {
    long t = 0;
    for (long b : perPhase) {
      t += b;
    }
    return t;
  }

  static DecodeBytes of(List<NativeTensorInfo> tensors, GgufMetadata meta, int phases) {
    boolean hasOutput = tensors.stream().anyMatch(t -> t.name().equals("output.weight"));
    double expertShare = 1.0;
    if (meta != null && meta.has("general.architecture")) {
      long count = meta.integer(meta.arch("expert_count")).orElse(0L);
      long used = meta.integer(meta.arch("expert_used_count")).orElse(0L);
      if (count > 0 && used > 0 && used <= count) {
        expertShare = (double) used / count;
      }
    }
    long[] per = new long[phases];
    for (NativeTensorInfo t : tensors) {
      long elems = 1;
      for (long d : t.dims()) {
        elems *= d;
      }
      long bytes = GgmlType.byId(t.ggmlType()).rowBytes(elems);
      String n = t.name();
      if (n.startsWith("token_embd.")) {
        if (hasOutput) {
          continue;
        }
        per[OUTPUT] += bytes; // a tied head streams the embedding matrix
        continue;
      }
      if (n.contains("_exps.")) {
        bytes = Math.round(bytes * expertShare);
      }
      per[phaseOf(n)] += bytes;
    }
    return new DecodeBytes(per);
  }

  static int phaseOf(String name) {
    if (name.startsWith("output")) {
      return name.startsWith("output_norm") ? NORM : OUTPUT;
    }
    if (name.contains(".attn_q.")
        || name.contains(".attn_k.")
        || name.contains(".attn_v.")
        || name.contains(".attn_qkv.")) {
      return QKV;
    }
    if (name.contains(".attn_output.")) {
      return WO;
    }
    if (name.contains("_exps.")
        || name.contains("_shexp.")
        || name.contains(".ffn_gate_inp.")
        || name.contains(".exp_probs_b")) {
      return FFN_UP; // the profile charges a whole MoE FFN to ffn_up
    }
    if (name.contains(".ffn_down")) {
      return FFN_DOWN;
    }
    if (name.contains(".ffn_")) {
      return FFN_UP; // gate, up, router, experts' gate/up, shared expert's gate/up
    }
    return NORM; // norms and anything else small
  }
}
