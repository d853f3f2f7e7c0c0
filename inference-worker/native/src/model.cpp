// Model loading and validation: hyper-parameters from metadata, every tensor present with the shape
// the hyper-parameters imply, types we can run.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "engine.h"

namespace glm {
namespace {

std::string key(const std::string &arch, const char *suffix) { return arch + "." + suffix; }

int64_t get_int(const GgufFile &f, const std::string &k, bool required, int64_t def) {
    const MetaEntry *e = f.find_meta(k);
    if (!e) {
        if (required) fail(GLM_ERR_FORMAT, "required metadata '%s' is missing", k.c_str());
        return def;
    }
    int64_t v;
    if (!meta_int(*e, &v)) fail(GLM_ERR_FORMAT, "metadata '%s' must be an integer (type %d)", k.c_str(), e->type);
    return v;
}

double get_float(const GgufFile &f, const std::string &k, bool required, double def) {
    const MetaEntry *e = f.find_meta(k);
    if (!e) {
        if (required) fail(GLM_ERR_FORMAT, "required metadata '%s' is missing", k.c_str());
        return def;
    }
    double v;
    if (!meta_float(*e, &v)) fail(GLM_ERR_FORMAT, "metadata '%s' must be a float (type %d)", k.c_str(), e->type);
    return v;
}

int32_t in_range(int64_t v, int64_t lo, int64_t hi, const std::string &k) {
    if (v < lo || v > hi) {
        fail(GLM_ERR_FORMAT, "metadata '%s' = %lld is outside %lld..%lld", k.c_str(), (long long)v, (long long)lo,
             (long long)hi);
    }
    return (int32_t)v;
}

std::string shape_str(const TensorInfo &t) {
    std::string s = "[";
    for (int d = 0; d < t.n_dims; d++) s += (d ? ", " : "") + std::to_string(t.ne[d]);
    return s + "]";
}

const TensorInfo *tensor(const GgufFile &f, const std::string &name, bool required) {
    const TensorInfo *t = f.find_tensor(name);
    if (!t && required) fail(GLM_ERR_FORMAT, "required tensor '%s' is missing", name.c_str());
    return t;
}

// The vocabulary size: the rows of token_embd.weight ([n_embd, n_vocab]), which the tokenizer's
// token list, when present, must match.
int32_t vocab_from_token_embd(const GgufFile &f, int64_t n_embd) {
    const TensorInfo *te = tensor(f, "token_embd.weight", true);
    if (te->n_dims != 2 || te->ne[0] != n_embd) {
        fail(GLM_ERR_FORMAT, "tensor 'token_embd.weight' has shape %s, expected [%lld, n_vocab]",
             shape_str(*te).c_str(), (long long)n_embd);
    }
    if (te->ne[1] > (1 << 24)) fail(GLM_ERR_FORMAT, "vocabulary of %lld tokens is absurd", (long long)te->ne[1]);
    const int32_t n_vocab = (int32_t)te->ne[1];
    if (const MetaEntry *tok = f.find_meta("tokenizer.ggml.tokens")) {
        if (tok->type == GLM_META_ARRAY && tok->arr_len != (uint64_t)n_vocab) {
            fail(GLM_ERR_FORMAT, "tokenizer has %llu tokens but token_embd has %d rows",
                 (unsigned long long)tok->arr_len, n_vocab);
        }
    }
    return n_vocab;
}

void check_shape(const TensorInfo &t, int64_t n0, int64_t n1) {
    const bool ok = (n1 == 0) ? (t.ne[0] == n0 && t.ne[1] == 1 && t.ne[2] == 1 && t.ne[3] == 1)
                              : (t.ne[0] == n0 && t.ne[1] == n1 && t.ne[2] == 1 && t.ne[3] == 1);
    if (!ok) {
        fail(GLM_ERR_FORMAT, "tensor '%s' has shape %s, the hyper-parameters imply [%lld%s%s]",
             std::string(t.name).c_str(), shape_str(t).c_str(), (long long)n0, n1 ? ", " : "",
             n1 ? std::to_string(n1).c_str() : "");
    }
}

const float *vec_f32(const GgufFile &f, const std::string &name, int64_t n, bool required) {
    const TensorInfo *t = tensor(f, name, required);
    if (!t) return nullptr;
    check_shape(*t, n, 0);
    if (t->type != T_F32) {
        TypeInfo ti = type_info(t->type);
        fail(GLM_ERR_UNSUPPORTED, "tensor '%s' has type %s; norm weights and biases must be F32", name.c_str(),
             ti.name);
    }
    if (reinterpret_cast<uintptr_t>(t->data) % 4 != 0) fail(GLM_ERR_FORMAT, "tensor '%s' is misaligned", name.c_str());
    return reinterpret_cast<const float *>(t->data);
}

Weight matrix(const GgufFile &f, const std::string &name, int64_t in, int64_t out, bool required) {
    Weight w;
    const TensorInfo *t = tensor(f, name, required);
    if (!t) return w;
    check_shape(*t, in, out);
    w.kind = weight_kind(t->type);
    TypeInfo ti = type_info(t->type);
    if (w.kind < 0)
        fail(GLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, which this engine does not run", name.c_str(), ti.name);
    // Quantised rows are whole blocks (checked by the reader); the float kernels step by 8.
    if (in % 8 != 0)
        fail(GLM_ERR_UNSUPPORTED, "tensor '%s': input width %lld is not a multiple of 8", name.c_str(), (long long)in);
    w.t = t;
    w.in = in;
    w.out = out;
    w.row_bytes = (size_t)(in / ti.block) * (size_t)ti.bytes;
    return w;
}

// Parameter and byte counts; with validate, every float of the tensor data checked for NaN/Inf.
void tally(GgufFile &file, glm_model_hparams &hp, bool validate) {
    hp.n_params = 0;
    hp.n_weight_bytes = 0;
    for (const TensorInfo &t : file.tensors) {
        hp.n_params += t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
        hp.n_weight_bytes += (int64_t)t.nbytes;
    }
    if (validate) {
        for (const TensorInfo &t : file.tensors) {
            const int64_t n = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
            bool bad = false;
            if (t.type == T_F32) {
                for (int64_t i = 0; i < n && !bad; i++) {
                    float v;
                    std::memcpy(&v, t.data + i * 4, 4);
                    bad = !std::isfinite(v);
                }
            } else if (t.type == T_F16 || t.type == T_Q8_0 || t.type == T_Q4_0) {
                const int64_t step = type_info(t.type).bytes; // every block starts with an f16 (scale or value)
                const int64_t cnt = n / type_info(t.type).block;
                for (int64_t i = 0; i < cnt && !bad; i++) {
                    uint16_t h;
                    std::memcpy(&h, t.data + i * step, 2);
                    bad = (h & 0x7c00) == 0x7c00;
                }
            } else if (t.type == T_BF16) {
                for (int64_t i = 0; i < n && !bad; i++) {
                    uint16_t h;
                    std::memcpy(&h, t.data + i * 2, 2);
                    bad = (h & 0x7f80) == 0x7f80;
                }
            }
            if (bad) fail(GLM_ERR_FORMAT, "tensor '%s' contains NaN or Inf", std::string(t.name).c_str());
        }
    }
}

} // namespace

void Model::load(const char *path, const glm_model_params &p) {
    file.open(path, p.use_mmap != 0);
    const MetaEntry *ae = file.find_meta("general.architecture");
    if (!ae) fail(GLM_ERR_FORMAT, "metadata 'general.architecture' is missing");
    if (ae->type != GLM_META_STRING) fail(GLM_ERR_FORMAT, "metadata 'general.architecture' must be a string");
    const std::string arch(ae->str);
    if (arch != "chatglm" && arch != "glm4" && arch != "glm4moe" && arch != "bert") {
        fail(GLM_ERR_UNSUPPORTED,
             "architecture '%.64s' is not supported (only 'chatglm', 'glm4', 'glm4moe' and 'bert')", arch.c_str());
    }
    is_glm4 = arch == "glm4";
    moe.on = arch == "glm4moe";
    rope_neox = moe.on;
    std::memset(&hp, 0, sizeof hp);
    std::snprintf(hp.architecture, sizeof hp.architecture, "%s", arch.c_str());
    if (arch == "bert") {
        load_bert();
        tally(file, hp, p.validate_data != 0);
        return;
    }

    const int32_t kMax = 1 << 20;
    hp.n_ctx_train =
        in_range(get_int(file, key(arch, "context_length"), true, 0), 1, 1 << 24, key(arch, "context_length"));
    hp.n_embd = in_range(get_int(file, key(arch, "embedding_length"), true, 0), 1, kMax, key(arch, "embedding_length"));
    hp.n_layer = in_range(get_int(file, key(arch, "block_count"), true, 0), 1, 4096, key(arch, "block_count"));
    hp.n_ff =
        in_range(get_int(file, key(arch, "feed_forward_length"), true, 0), 1, kMax, key(arch, "feed_forward_length"));
    hp.n_head =
        in_range(get_int(file, key(arch, "attention.head_count"), true, 0), 1, 4096, key(arch, "attention.head_count"));
    hp.n_head_kv = in_range(get_int(file, key(arch, "attention.head_count_kv"), false, hp.n_head), 1, hp.n_head,
                            key(arch, "attention.head_count_kv"));
    if (hp.n_head % hp.n_head_kv != 0) {
        fail(GLM_ERR_FORMAT, "head_count %d is not a multiple of head_count_kv %d", hp.n_head, hp.n_head_kv);
    }
    const int64_t hd_default = hp.n_embd / hp.n_head;
    hp.head_dim = in_range(get_int(file, key(arch, "attention.key_length"), false, hd_default), 1, 4096,
                           key(arch, "attention.key_length"));
    const int64_t vlen = get_int(file, key(arch, "attention.value_length"), false, hp.head_dim);
    if (vlen != hp.head_dim) {
        fail(GLM_ERR_UNSUPPORTED, "attention.value_length %lld differs from key_length %d", (long long)vlen,
             hp.head_dim);
    }
    if (hp.head_dim % 2 != 0) fail(GLM_ERR_UNSUPPORTED, "head_dim %d is odd", hp.head_dim);
    hp.n_rot = in_range(get_int(file, key(arch, "rope.dimension_count"), false, hp.head_dim), 0, hp.head_dim,
                        key(arch, "rope.dimension_count"));
    if (hp.n_rot % 2 != 0) fail(GLM_ERR_FORMAT, "rope.dimension_count %d is odd", hp.n_rot);
    hp.rope_freq_base = (float)get_float(file, key(arch, "rope.freq_base"), false, 10000.0);
    hp.rms_norm_eps = (float)get_float(file, key(arch, "attention.layer_norm_rms_epsilon"), true, 0.0);
    if (!(hp.rope_freq_base > 0.0f) || !std::isfinite(hp.rope_freq_base))
        fail(GLM_ERR_FORMAT, "rope.freq_base must be positive");
    if (!(hp.rms_norm_eps >= 0.0f) || !std::isfinite(hp.rms_norm_eps))
        fail(GLM_ERR_FORMAT, "layer_norm_rms_epsilon must be >= 0");
    if (const MetaEntry *rs = file.find_meta(key(arch, "rope.scaling.type"))) {
        if (rs->type == GLM_META_STRING && rs->str != "none" && rs->str != "linear") {
            fail(GLM_ERR_UNSUPPORTED, "rope scaling '%.32s' is not supported", std::string(rs->str).c_str());
        }
    }
    const double rfactor = get_float(file, key(arch, "rope.scaling.factor"), false, 1.0);
    if (rfactor != 0.0 && rfactor != 1.0) fail(GLM_ERR_UNSUPPORTED, "rope.scaling.factor %g is not supported", rfactor);
    if (is_glm4) {
        if (const MetaEntry *sec = file.find_meta(key(arch, "rope.dimension_sections"))) {
            if (sec->type == GLM_META_ARRAY && sec->arr_type == GLM_META_INT32 && sec->arr_len >= 2) {
                int32_t s0, s1;
                std::memcpy(&s0, sec->arr_data, 4);
                std::memcpy(&s1, sec->arr_data + 4, 4);
                if (s0 > 0 && s1 > 0)
                    fail(GLM_ERR_UNSUPPORTED, "glm4 with M-RoPE (rope.dimension_sections) is not supported");
            }
        }
    }
    const int64_t nextn = (is_glm4 || moe.on) ? get_int(file, key(arch, "nextn_predict_layers"), false, 0) : 0;
    if (nextn < 0 || nextn >= hp.n_layer)
        fail(GLM_ERR_FORMAT, "nextn_predict_layers %lld is out of range", (long long)nextn);
    n_layer_run = hp.n_layer - (int32_t)nextn;
    hp.file_type = (int32_t)get_int(file, "general.file_type", false, -1);

    const int64_t E = hp.n_embd, hd = hp.head_dim;
    const int64_t qdim = (int64_t)hp.n_head * hd, kvdim = (int64_t)hp.n_head_kv * hd;
    if (!is_glm4 && !moe.on && qdim != E) {
        fail(GLM_ERR_FORMAT, "chatglm requires head_count x head_dim (%lld) == embedding_length (%lld)",
             (long long)qdim, (long long)E);
    }
    hp.n_vocab = vocab_from_token_embd(file, E);
    tok_embd = matrix(file, "token_embd.weight", E, hp.n_vocab, true);
    output_norm = vec_f32(file, "output_norm.weight", E, true);
    output = matrix(file, "output.weight", E, hp.n_vocab, false);
    if (!output) output = tok_embd;

    if (moe.on) {
        load_glm4moe();
        tally(file, hp, p.validate_data != 0);
        return;
    }
    layers.assign(n_layer_run, Layer{});
    for (int32_t il = 0; il < n_layer_run; il++) {
        Layer &L = layers[il];
        const std::string p = "blk." + std::to_string(il) + ".";
        L.attn_norm = vec_f32(file, p + "attn_norm.weight", E, true);
        L.wqkv = matrix(file, p + "attn_qkv.weight", E, qdim + 2 * kvdim, false);
        if (L.wqkv) {
            L.bqkv = vec_f32(file, p + "attn_qkv.bias", qdim + 2 * kvdim, false);
        } else {
            if (!file.find_tensor(p + "attn_q.weight")) {
                fail(GLM_ERR_FORMAT, "layer %d has neither '%sattn_qkv.weight' nor '%sattn_q.weight'", il, p.c_str(),
                     p.c_str());
            }
            L.wq = matrix(file, p + "attn_q.weight", E, qdim, true);
            L.wk = matrix(file, p + "attn_k.weight", E, kvdim, true);
            L.wv = matrix(file, p + "attn_v.weight", E, kvdim, true);
            L.bq = vec_f32(file, p + "attn_q.bias", qdim, false);
            L.bk = vec_f32(file, p + "attn_k.bias", kvdim, false);
            L.bv = vec_f32(file, p + "attn_v.bias", kvdim, false);
        }
        L.wo = matrix(file, p + "attn_output.weight", qdim, E, true);
        L.ffn_norm = vec_f32(file, p + "ffn_norm.weight", E, true);
        L.ffn_up = matrix(file, p + "ffn_up.weight", E, 2 * (int64_t)hp.n_ff, true);
        L.ffn_down = matrix(file, p + "ffn_down.weight", hp.n_ff, E, true);
        if (is_glm4) {
            L.post_attn_norm = vec_f32(file, p + "post_attention_norm.weight", E, true);
            L.post_ffn_norm = vec_f32(file, p + "post_ffw_norm.weight", E, true);
        }
    }
    tally(file, hp, p.validate_data != 0);
}

// The layers of a glm4moe file (llama.cpp's LLM_ARCH_GLM4_MOE): leading dense SwiGLU layers, then
// routed experts (3-D tensors, one view per expert) plus a shared expert; NextN layers are not read.
void Model::load_glm4moe() {
    const std::string arch = "glm4moe";
    const int64_t E = hp.n_embd, hd = hp.head_dim;
    const int64_t qdim = (int64_t)hp.n_head * hd, kvdim = (int64_t)hp.n_head_kv * hd;
    moe.n_expert = in_range(get_int(file, key(arch, "expert_count"), true, 0), 1, 4096, key(arch, "expert_count"));
    moe.n_used = in_range(get_int(file, key(arch, "expert_used_count"), true, 0), 1, moe.n_expert,
                          key(arch, "expert_used_count"));
    moe.n_shared =
        in_range(get_int(file, key(arch, "expert_shared_count"), false, 0), 0, 64, key(arch, "expert_shared_count"));
    moe.n_ff_exp = in_range(get_int(file, key(arch, "expert_feed_forward_length"), true, 0), 1, 1 << 20,
                            key(arch, "expert_feed_forward_length"));
    moe.n_dense_lead = in_range(get_int(file, key(arch, "leading_dense_block_count"), false, 0), 0, n_layer_run,
                                key(arch, "leading_dense_block_count"));
    moe.gating =
        in_range(get_int(file, key(arch, "expert_gating_func"), false, 2), 1, 2, key(arch, "expert_gating_func"));
    moe.weights_scale = (float)get_float(file, key(arch, "expert_weights_scale"), false, 0.0);
    if (const MetaEntry *wn = file.find_meta(key(arch, "expert_weights_norm"))) {
        if (wn->type != GLM_META_BOOL)
            fail(GLM_ERR_FORMAT, "metadata '%s' must be a bool", key(arch, "expert_weights_norm").c_str());
        moe.weights_norm = wn->raw != 0;
    }
    const int64_t ffe = moe.n_ff_exp, nx = moe.n_expert;
    // One expert of a 3-D tensor [in, out, n_expert] as a 2-D weight.
    auto experts = [&](const std::string &name, int64_t in, int64_t out, std::vector<Weight> &dst) {
        const TensorInfo *t = tensor(file, name, true);
        if (t->n_dims != 3 || t->ne[0] != in || t->ne[1] != out || t->ne[2] != nx) {
            fail(GLM_ERR_FORMAT, "tensor '%s' has shape %s, the hyper-parameters imply [%lld, %lld, %lld]",
                 name.c_str(), shape_str(*t).c_str(), (long long)in, (long long)out, (long long)nx);
        }
        const TypeInfo ti = type_info(t->type);
        const size_t bytes = (size_t)(in / ti.block) * (size_t)ti.bytes * (size_t)out;
        dst.clear();
        for (int64_t e = 0; e < nx; e++) {
            auto v = std::make_unique<TensorInfo>(*t);
            v->n_dims = 2;
            v->ne[2] = 1;
            v->nbytes = bytes;
            v->data = t->data + (size_t)e * bytes;
            const TensorInfo *view = v.get();
            expert_views.push_back(std::move(v));
            Weight w;
            w.kind = weight_kind(view->type);
            if (w.kind < 0)
                fail(GLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, which this engine does not run", name.c_str(),
                     ti.name);
            if (in % 8 != 0)
                fail(GLM_ERR_UNSUPPORTED, "tensor '%s': input width %lld is not a multiple of 8", name.c_str(),
                     (long long)in);
            w.t = view;
            w.in = in;
            w.out = out;
            w.row_bytes = (size_t)(in / ti.block) * (size_t)ti.bytes;
            dst.push_back(w);
        }
    };
    layers.assign(n_layer_run, Layer{});
    for (int32_t il = 0; il < n_layer_run; il++) {
        Layer &L = layers[il];
        const std::string p = "blk." + std::to_string(il) + ".";
        L.attn_norm = vec_f32(file, p + "attn_norm.weight", E, true);
        L.wq = matrix(file, p + "attn_q.weight", E, qdim, true);
        L.wk = matrix(file, p + "attn_k.weight", E, kvdim, true);
        L.wv = matrix(file, p + "attn_v.weight", E, kvdim, true);
        L.bq = vec_f32(file, p + "attn_q.bias", qdim, false);
        L.bk = vec_f32(file, p + "attn_k.bias", kvdim, false);
        L.bv = vec_f32(file, p + "attn_v.bias", kvdim, false);
        L.q_norm = vec_f32(file, p + "attn_q_norm.weight", hd, false);
        L.k_norm = vec_f32(file, p + "attn_k_norm.weight", hd, false);
        L.wo = matrix(file, p + "attn_output.weight", qdim, E, true);
        // Despite its name, post_attention_norm is the pre-FFN norm of glm4moe.
        L.ffn_norm = vec_f32(file, p + "post_attention_norm.weight", E, true);
        if (il < moe.n_dense_lead) {
            L.ffn_gate = matrix(file, p + "ffn_gate.weight", E, hp.n_ff, true);
            L.ffn_up = matrix(file, p + "ffn_up.weight", E, hp.n_ff, true);
            L.ffn_down = matrix(file, p + "ffn_down.weight", hp.n_ff, E, true);
            continue;
        }
        L.router = matrix(file, p + "ffn_gate_inp.weight", E, nx, true);
        if (L.router.t->type != T_F32)
            fail(GLM_ERR_UNSUPPORTED, "tensor '%sffn_gate_inp.weight' must be F32 (llama-quantize keeps it F32)",
                 p.c_str());
        L.exp_probs_b = vec_f32(file, p + "exp_probs_b.bias", nx, false);
        experts(p + "ffn_gate_exps.weight", E, ffe, L.gate_exps);
        experts(p + "ffn_up_exps.weight", E, ffe, L.up_exps);
        experts(p + "ffn_down_exps.weight", ffe, E, L.down_exps);
        if (moe.n_shared > 0) {
            const int64_t ffs = ffe * moe.n_shared;
            L.gate_sh = matrix(file, p + "ffn_gate_shexp.weight", E, ffs, true);
            L.up_sh = matrix(file, p + "ffn_up_shexp.weight", E, ffs, true);
            L.down_sh = matrix(file, p + "ffn_down_shexp.weight", ffs, E, true);
        }
    }
}

void Model::load_bert() {
    const std::string arch = "bert";
    is_bert = true;
    const int32_t kMax = 1 << 20;
    hp.n_ctx_train =
        in_range(get_int(file, key(arch, "context_length"), true, 0), 1, 1 << 24, key(arch, "context_length"));
    hp.n_embd = in_range(get_int(file, key(arch, "embedding_length"), true, 0), 1, kMax, key(arch, "embedding_length"));
    hp.n_layer = in_range(get_int(file, key(arch, "block_count"), true, 0), 1, 4096, key(arch, "block_count"));
    hp.n_ff =
        in_range(get_int(file, key(arch, "feed_forward_length"), true, 0), 1, kMax, key(arch, "feed_forward_length"));
    hp.n_head =
        in_range(get_int(file, key(arch, "attention.head_count"), true, 0), 1, 4096, key(arch, "attention.head_count"));
    hp.n_head_kv = in_range(get_int(file, key(arch, "attention.head_count_kv"), false, hp.n_head), hp.n_head, hp.n_head,
                            key(arch, "attention.head_count_kv"));
    if (hp.n_embd % hp.n_head != 0) {
        fail(GLM_ERR_FORMAT, "bert: embedding_length %d is not a multiple of head_count %d", hp.n_embd, hp.n_head);
    }
    hp.head_dim = hp.n_embd / hp.n_head;
    hp.n_rot = 0;
    hp.rope_freq_base = 0.0f;
    hp.rms_norm_eps = (float)get_float(file, key(arch, "attention.layer_norm_epsilon"), true, 0.0);
    if (!(hp.rms_norm_eps >= 0.0f) || !std::isfinite(hp.rms_norm_eps))
        fail(GLM_ERR_FORMAT, "bert.attention.layer_norm_epsilon must be >= 0");
    if (const MetaEntry *c = file.find_meta(key(arch, "attention.causal"))) {
        int64_t causal = 0;
        if (!meta_int(*c, &causal)) fail(GLM_ERR_FORMAT, "metadata 'bert.attention.causal' must be a bool");
        if (causal) fail(GLM_ERR_UNSUPPORTED, "bert with causal attention is not supported");
    }
    const int64_t pooling = get_int(file, key(arch, "pooling_type"), false, POOL_MEAN);
    if (pooling != POOL_MEAN && pooling != POOL_CLS && pooling != POOL_LAST) {
        fail(GLM_ERR_UNSUPPORTED, "bert.pooling_type %lld is not supported (1 mean, 2 cls, 3 last)",
             (long long)pooling);
    }
    bert.pooling = (int32_t)pooling;
    hp.file_type = (int32_t)get_int(file, "general.file_type", false, -1);

    const int64_t E = hp.n_embd, ff = hp.n_ff;
    hp.n_vocab = vocab_from_token_embd(file, E);
    tok_embd = matrix(file, "token_embd.weight", E, hp.n_vocab, true);
    const TensorInfo *tt = tensor(file, "token_types.weight", true);
    if (tt->n_dims != 2 || tt->ne[1] < 1 || tt->ne[1] > 16)
        fail(GLM_ERR_FORMAT, "tensor 'token_types.weight' has shape %s, expected [%lld, n_types]",
             shape_str(*tt).c_str(), (long long)E);
    bert.type_embd = matrix(file, "token_types.weight", E, tt->ne[1], true);
    const TensorInfo *tp = tensor(file, "position_embd.weight", true);
    if (tp->n_dims != 2 || tp->ne[1] < 1 || tp->ne[1] > (1 << 24))
        fail(GLM_ERR_FORMAT, "tensor 'position_embd.weight' has shape %s, expected [%lld, n_positions]",
             shape_str(*tp).c_str(), (long long)E);
    bert.pos_embd = matrix(file, "position_embd.weight", E, tp->ne[1], true);
    bert.n_pos = std::min<int64_t>(tp->ne[1], hp.n_ctx_train);
    bert.embd_norm_w = vec_f32(file, "token_embd_norm.weight", E, true);
    bert.embd_norm_b = vec_f32(file, "token_embd_norm.bias", E, true);
    n_layer_run = hp.n_layer;
    bert.layers.assign(hp.n_layer, BertLayer{});
    for (int32_t il = 0; il < hp.n_layer; il++) {
        BertLayer &L = bert.layers[il];
        const std::string p = "blk." + std::to_string(il) + ".";
        L.wq = matrix(file, p + "attn_q.weight", E, E, true);
        L.wk = matrix(file, p + "attn_k.weight", E, E, true);
        L.wv = matrix(file, p + "attn_v.weight", E, E, true);
        L.bq = vec_f32(file, p + "attn_q.bias", E, true);
        L.bk = vec_f32(file, p + "attn_k.bias", E, true);
        L.bv = vec_f32(file, p + "attn_v.bias", E, true);
        L.wo = matrix(file, p + "attn_output.weight", E, E, true);
        L.bo = vec_f32(file, p + "attn_output.bias", E, true);
        L.attn_norm_w = vec_f32(file, p + "attn_output_norm.weight", E, true);
        L.attn_norm_b = vec_f32(file, p + "attn_output_norm.bias", E, true);
        L.ffn_up = matrix(file, p + "ffn_up.weight", E, ff, true);
        L.b_up = vec_f32(file, p + "ffn_up.bias", ff, true);
        L.ffn_down = matrix(file, p + "ffn_down.weight", ff, E, true);
        L.b_down = vec_f32(file, p + "ffn_down.bias", E, true);
        L.out_norm_w = vec_f32(file, p + "layer_output_norm.weight", E, true);
        L.out_norm_b = vec_f32(file, p + "layer_output_norm.bias", E, true);
    }
}

Model::~Model() { std::free(packed_); }

int64_t Model::expert_bytes() const {
    int64_t n = 0;
    for (const Layer &L : layers)
        for (const auto *v : {&L.gate_exps, &L.up_exps, &L.down_exps})
            for (const Weight &w : *v) n += (int64_t)w.t->nbytes;
    return n;
}

void Model::ensure_packed(const KernelSet &k) {
    std::lock_guard<std::mutex> g(pack_mu_);
    if (packed_done_ || !k.pack_bytes) return;
    std::vector<Weight *> ws;
    auto add = [&](Weight &w) {
        if (w && w.kind >= 0 && k.packed_matmul[w.kind] && k.pack_bytes(w.kind, w.out, w.in) > 0) ws.push_back(&w);
    };
    add(output);
    for (BertLayer &L : bert.layers) {
        add(L.wq);
        add(L.wk);
        add(L.wv);
        add(L.wo);
        add(L.ffn_up);
        add(L.ffn_down);
    }
    for (Layer &L : layers) {
        add(L.ffn_gate);
        add(L.gate_sh);
        add(L.up_sh);
        add(L.down_sh);
        if (!experts_from_disk) {
            for (Weight &w : L.gate_exps) add(w);
            for (Weight &w : L.up_exps) add(w);
            for (Weight &w : L.down_exps) add(w);
        }
        add(L.wqkv);
        add(L.wq);
        add(L.wk);
        add(L.wv);
        add(L.wo);
        add(L.ffn_up);
        add(L.ffn_down);
    }
    // One allocation for all panels, 2 MiB aligned and backed by huge pages where the kernel allows
    // (a decode step streams every panel once: 4 KiB pages would cost a TLB miss every 4 KiB).
    struct Job {
        size_t wi;
        uint8_t *dst;
        int64_t p0, p1;
    };
    std::vector<Job> jobs;
    std::vector<size_t> offs;
    size_t total = 0;
    for (Weight *w : ws) {
        offs.push_back(total);
        total += (k.pack_bytes(w->kind, w->out, w->in) + 4095) & ~size_t(4095);
    }
    if (ws.empty()) {
        packed_done_ = true;
        return;
    }
    constexpr size_t kHuge = 2u << 20;
    const size_t alloc = (total + kHuge - 1) & ~(kHuge - 1);
    void *mem = nullptr;
    if (posix_memalign(&mem, kHuge, alloc) != 0) {
        fail(GLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the repacked weights", alloc);
    }
#ifdef MADV_HUGEPAGE
    madvise(mem, alloc, MADV_HUGEPAGE);
#endif
    packed_ = static_cast<uint8_t *>(mem);
    for (size_t i = 0; i < ws.size(); i++) {
        Weight *w = ws[i];
        uint8_t *dst = static_cast<uint8_t *>(mem) + offs[i];
        const int64_t panels = (w->out + kPanelRows - 1) / kPanelRows;
        for (int64_t p0 = 0; p0 < panels; p0 += 64) jobs.push_back({i, dst, p0, std::min<int64_t>(panels, p0 + 64)});
    }
    // The file pages of a repacked matrix are not read again by the CPU path: drop them from this
    // process as soon as the matrix is done (they stay in the page cache and re-fault if the CUDA
    // path or the embedding lookup of a tied head reads them), so the peak is about one copy.
    const long page = sysconf(_SC_PAGESIZE);
    auto release = [&](const Weight *w) {
        uintptr_t a0 = reinterpret_cast<uintptr_t>(w->t->data), a1 = a0 + w->t->nbytes;
        a0 = (a0 + page - 1) & ~(uintptr_t)(page - 1);
        a1 &= ~(uintptr_t)(page - 1);
        if (file.mapped() && a1 > a0 && w->t != tok_embd.t)
            madvise(reinterpret_cast<void *>(a0), a1 - a0, MADV_DONTNEED);
    };
    std::vector<std::atomic<int64_t>> left(ws.size());
    for (auto &l : left) l.store(0);
    for (const Job &jb : jobs) left[jb.wi].fetch_add(1);
    const unsigned nt = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::atomic<size_t> next{0};
    auto run = [&] {
        for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
            const Job &jb = jobs[j];
            const Weight *w = ws[jb.wi];
            k.pack(w->kind, w->t->data, w->row_bytes, w->out, w->in, jb.dst, jb.p0, jb.p1);
            if (left[jb.wi].fetch_sub(1) == 1) release(w);
        }
    };
    std::vector<std::thread> th;
    for (unsigned i = 1; i < nt; i++) th.emplace_back(run);
    run();
    for (auto &t : th) t.join();
    for (size_t i = 0; i < ws.size(); i++) {
        ws[i]->packed = packed_ + offs[i];
        ws[i]->panel_bytes = k.pack_bytes(ws[i]->kind, kPanelRows, ws[i]->in);
    }
    packed_done_ = true;
}

} // namespace glm
