// Test helper: writes small GGUF v3 files (and random GLM models) in memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "common.h"

namespace testgguf {

struct Writer {
    std::vector<uint8_t> kv; // key/value section
    uint64_t n_kv = 0;
    struct T {
        std::string name;
        std::vector<int64_t> ne;
        int32_t type;
        std::vector<uint8_t> data;
    };
    std::vector<T> tensors;
    uint32_t alignment = 32;

    template <class V>
    void put(std::vector<uint8_t> &b, V v) {
        const uint8_t *p = reinterpret_cast<const uint8_t *>(&v);
        b.insert(b.end(), p, p + sizeof v);
    }
    void put_str(std::vector<uint8_t> &b, const std::string &s) {
        put<uint64_t>(b, s.size());
        b.insert(b.end(), s.begin(), s.end());
    }
    void key(const std::string &k, uint32_t type) {
        put_str(kv, k);
        put<uint32_t>(kv, type);
        n_kv++;
    }
    void u16(const std::string &k, uint16_t v) {
        key(k, 2);
        put(kv, v);
    }
    void u32(const std::string &k, uint32_t v) {
        key(k, 4);
        put(kv, v);
    }
    void i32(const std::string &k, int32_t v) {
        key(k, 5);
        put(kv, v);
    }
    void f32(const std::string &k, float v) {
        key(k, 6);
        put(kv, v);
    }
    void str(const std::string &k, const std::string &v) {
        key(k, 8);
        put_str(kv, v);
    }
    void arr_str(const std::string &k, const std::vector<std::string> &v) {
        key(k, 9);
        put<uint32_t>(kv, 8);
        put<uint64_t>(kv, v.size());
        for (auto &s : v) put_str(kv, s);
    }
    void arr_i32(const std::string &k, const std::vector<int32_t> &v) {
        key(k, 9);
        put<uint32_t>(kv, 5);
        put<uint64_t>(kv, v.size());
        for (int32_t x : v) put(kv, x);
    }
    void tensor(const std::string &name, std::vector<int64_t> ne, int32_t type, std::vector<uint8_t> data) {
        tensors.push_back({name, std::move(ne), type, std::move(data)});
    }
    // Serialises; offsets are assigned in order with the alignment.
    std::vector<uint8_t> bytes(std::vector<uint64_t> *offsets_out = nullptr) const {
        std::vector<uint8_t> b;
        Writer &w = const_cast<Writer &>(*this);
        b.insert(b.end(), {'G', 'G', 'U', 'F'});
        w.put<uint32_t>(b, 3);
        w.put<uint64_t>(b, tensors.size());
        w.put<uint64_t>(b, n_kv);
        b.insert(b.end(), kv.begin(), kv.end());
        uint64_t off = 0;
        std::vector<uint64_t> offs;
        for (const T &t : tensors) {
            w.put_str(b, t.name);
            w.put<uint32_t>(b, (uint32_t)t.ne.size());
            for (int64_t n : t.ne) w.put<uint64_t>(b, (uint64_t)n);
            w.put<uint32_t>(b, (uint32_t)t.type);
            w.put<uint64_t>(b, off);
            offs.push_back(off);
            off += t.data.size();
            off = (off + alignment - 1) / alignment * alignment;
        }
        while (b.size() % alignment) b.push_back(0);
        const size_t base = b.size();
        for (size_t i = 0; i < tensors.size(); i++) {
            b.resize(base + offs[i]);
            b.insert(b.end(), tensors[i].data.begin(), tensors[i].data.end());
        }
        while (b.size() % alignment) b.push_back(0);
        if (offsets_out) *offsets_out = offs;
        return b;
    }
};

// A tiny gguf-split: `n` parts as llama.cpp's `llama-gguf-split --split` writes them. The first
// part holds every key/value plus split.no = 0, split.count = n, split.tensors.count; the others
// only the split.* keys (and the alignment); the tensors are dealt out in order, about evenly.
// `count_override` > 0 makes every part claim that split.count instead (a mismatched-part fault).
inline std::vector<std::vector<uint8_t>> split_parts(const Writer &w, int n, int count_override = -1) {
    std::vector<std::vector<uint8_t>> out;
    const size_t T = w.tensors.size();
    const int count = count_override > 0 ? count_override : n;
    for (int k = 0; k < n; k++) {
        Writer p;
        p.alignment = w.alignment;
        if (k == 0) {
            p.kv = w.kv;
            p.n_kv = w.n_kv;
        }
        p.u16("split.no", (uint16_t)k);
        p.u16("split.count", (uint16_t)count);
        p.i32("split.tensors.count", (int32_t)T);
        if (k != 0) p.u32("general.alignment", w.alignment);
        for (size_t i = T * k / n; i < T * (k + 1) / n; i++) p.tensors.push_back(w.tensors[i]);
        out.push_back(p.bytes());
    }
    return out;
}

inline std::vector<uint8_t> f32_bytes(const std::vector<float> &v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

// Quantises rows of `in` floats into a ggml type (reference-style; good enough for tests).
inline std::vector<uint8_t> encode(const std::vector<float> &v, int64_t in, int32_t type, std::mt19937 &rng) {
    const int64_t n = (int64_t)v.size();
    std::vector<uint8_t> b;
    auto h16 = [&](float f) {
        uint16_t h = glm::fp32_to_fp16(f);
        b.push_back(h & 0xff);
        b.push_back(h >> 8);
    };
    switch (type) {
        case glm::T_F32:
            return f32_bytes(v);
        case glm::T_F16:
            for (float f : v) h16(f);
            return b;
        case glm::T_BF16:
            for (float f : v) {
                uint16_t h = glm::fp32_to_bf16(f);
                b.push_back(h & 0xff);
                b.push_back(h >> 8);
            }
            return b;
        case glm::T_Q8_0:
            for (int64_t i = 0; i < n; i += 32) {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = std::fmax(amax, std::fabs(v[i + j]));
                float d = amax / 127, id = d ? 1 / d : 0;
                h16(d);
                for (int j = 0; j < 32; j++) b.push_back((uint8_t)(int8_t)std::lround(v[i + j] * id));
            }
            return b;
        case glm::T_Q4_0:
            for (int64_t i = 0; i < n; i += 32) {
                float amax = 0, mx = 0;
                for (int j = 0; j < 32; j++)
                    if (std::fabs(v[i + j]) > amax) {
                        amax = std::fabs(v[i + j]);
                        mx = v[i + j];
                    }
                float d = mx / -8, id = d ? 1 / d : 0;
                h16(d);
                for (int j = 0; j < 16; j++) {
                    int a = std::min(15, (int)(v[i + j] * id + 8.5f)),
                        c = std::min(15, (int)(v[i + j + 16] * id + 8.5f));
                    b.push_back((uint8_t)(a | (c << 4)));
                }
            }
            return b;
        case glm::T_Q6_K: {
            // Random but valid super-blocks with a scale that keeps values near N(0, 0.05).
            std::uniform_int_distribution<int> byte(0, 255), sc(-40, 40);
            for (int64_t i = 0; i < n; i += 256) {
                for (int j = 0; j < 192; j++) b.push_back((uint8_t)byte(rng));
                for (int j = 0; j < 16; j++) b.push_back((uint8_t)(int8_t)sc(rng));
                h16(0.00005f);
            }
            (void)in;
            return b;
        }
        case glm::T_Q4_K:
        case glm::T_Q5_K: {
            // Random but valid super-blocks (6-bit scales and mins in their 12 packed bytes),
            // scaled so values stay near N(0, 0.05).
            const bool q5 = type == glm::T_Q5_K;
            std::uniform_int_distribution<int> byte(0, 255);
            for (int64_t i = 0; i < n; i += 256) {
                h16(q5 ? 0.0004f : 0.0008f);
                h16(q5 ? 0.0008f : 0.0008f);
                for (int j = 0; j < 12; j++) b.push_back((uint8_t)byte(rng));
                for (int j = 0; j < (q5 ? 160 : 128); j++) b.push_back((uint8_t)byte(rng));
            }
            (void)in;
            return b;
        }
        default:
            return b;
    }
}

struct ModelSpec {
    std::string arch = "glm4";
    int n_embd = 64, n_layer = 2, n_head = 4, n_head_kv = 2, head_dim = 16, n_rot = 8, n_ff = 96, n_vocab = 96,
        n_ctx = 256;
    int32_t wtype = glm::T_F32;
    int32_t out_type = -1; // -1: same as wtype
    bool fused_qkv = false, tied = false;
    uint32_t seed = 1;
    // glm4moe (arch "glm4moe"): experts, and a fault to plant for the fuzzed-file checks
    int n_expert = 8, n_used = 2, n_shared = 1, n_ff_exp = 32, n_dense_lead = 1, n_nextn = 1;
    bool qk_norm = true;
    std::string fault; // "", "expert_count", "no_shared", "bias_shape", "exps_shape", "router_q8"
};

inline Writer make_model(const ModelSpec &s) {
    std::mt19937 rng(s.seed);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    auto randv = [&](int64_t n) {
        std::vector<float> v((size_t)n);
        for (auto &x : v) x = nd(rng);
        return v;
    };
    auto onesish = [&](int64_t n) {
        std::vector<float> v((size_t)n);
        for (auto &x : v) x = 1.0f + 0.1f * nd(rng);
        return v;
    };
    Writer w;
    const std::string a = s.arch;
    w.str("general.architecture", a);
    w.u32("general.alignment", 32);
    w.u32(a + ".context_length", s.n_ctx);
    w.u32(a + ".embedding_length", s.n_embd);
    w.u32(a + ".block_count", s.n_layer);
    w.u32(a + ".feed_forward_length", s.n_ff);
    w.u32(a + ".attention.head_count", s.n_head);
    w.u32(a + ".attention.head_count_kv", s.n_head_kv);
    w.u32(a + ".attention.key_length", s.head_dim);
    w.u32(a + ".attention.value_length", s.head_dim);
    w.u32(a + ".rope.dimension_count", s.n_rot);
    w.f32(a + ".rope.freq_base", 10000.0f);
    w.f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    const bool moe = a == "glm4moe";
    if (moe) {
        // the NextN layers count in block_count; they are written but never run
        w.u32(a + ".expert_count", s.fault == "expert_count" ? s.n_expert + 1 : s.n_expert);
        w.u32(a + ".expert_used_count", s.n_used);
        w.u32(a + ".expert_shared_count", s.n_shared);
        w.u32(a + ".expert_feed_forward_length", s.n_ff_exp);
        w.u32(a + ".leading_dense_block_count", s.n_dense_lead);
        w.u32(a + ".expert_gating_func", 2);
        w.f32(a + ".expert_weights_scale", 2.5f);
        w.u32(a + ".nextn_predict_layers", s.n_nextn);
    }
    std::vector<std::string> toks;
    for (int i = 0; i < s.n_vocab; i++) toks.push_back("t" + std::to_string(i));
    w.arr_str("tokenizer.ggml.tokens", toks);
    const int64_t E = s.n_embd, q = (int64_t)s.n_head * s.head_dim, kv = (int64_t)s.n_head_kv * s.head_dim;
    auto mat = [&](const std::string &name, int64_t in, int64_t out, int32_t type) {
        w.tensor(name, {in, out}, type, encode(randv(in * out), in, type, rng));
    };
    mat("token_embd.weight", E, s.n_vocab, s.wtype);
    w.tensor("output_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
    if (!s.tied) mat("output.weight", E, s.n_vocab, s.out_type >= 0 ? s.out_type : s.wtype);
    for (int il = 0; il < s.n_layer && moe; il++) {
        const std::string p = "blk." + std::to_string(il) + ".";
        const int64_t nx = s.n_expert, fe = s.n_ff_exp;
        w.tensor(p + "attn_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
        mat(p + "attn_q.weight", E, q, s.wtype);
        mat(p + "attn_k.weight", E, kv, s.wtype);
        mat(p + "attn_v.weight", E, kv, s.wtype);
        w.tensor(p + "attn_q.bias", {q}, glm::T_F32, f32_bytes(randv(q)));
        w.tensor(p + "attn_k.bias", {kv}, glm::T_F32, f32_bytes(randv(kv)));
        w.tensor(p + "attn_v.bias", {kv}, glm::T_F32, f32_bytes(randv(kv)));
        if (s.qk_norm) {
            w.tensor(p + "attn_q_norm.weight", {s.head_dim}, glm::T_F32, f32_bytes(onesish(s.head_dim)));
            w.tensor(p + "attn_k_norm.weight", {s.head_dim}, glm::T_F32, f32_bytes(onesish(s.head_dim)));
        }
        mat(p + "attn_output.weight", q, E, s.wtype);
        w.tensor(p + "post_attention_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
        if (il < s.n_dense_lead) {
            mat(p + "ffn_gate.weight", E, s.n_ff, s.wtype);
            mat(p + "ffn_up.weight", E, s.n_ff, s.wtype);
            mat(p + "ffn_down.weight", s.n_ff, E, s.wtype);
            continue;
        }
        const int32_t rt = s.fault == "router_q8" ? glm::T_Q8_0 : glm::T_F32;
        w.tensor(p + "ffn_gate_inp.weight", {E, nx}, rt, encode(randv(E * nx), E, rt, rng));
        const int64_t nb = s.fault == "bias_shape" ? nx + 3 : nx;
        w.tensor(p + "exp_probs_b.bias", {nb}, glm::T_F32, f32_bytes(randv(nb)));
        const int64_t fx = s.fault == "exps_shape" ? fe + 8 : fe;
        w.tensor(p + "ffn_gate_exps.weight", {E, fx, nx}, s.wtype, encode(randv(E * fx * nx), E, s.wtype, rng));
        w.tensor(p + "ffn_up_exps.weight", {E, fe, nx}, s.wtype, encode(randv(E * fe * nx), E, s.wtype, rng));
        w.tensor(p + "ffn_down_exps.weight", {fe, E, nx}, s.wtype, encode(randv(fe * E * nx), fe, s.wtype, rng));
        if (s.fault != "no_shared") {
            const int64_t fs = fe * s.n_shared;
            mat(p + "ffn_gate_shexp.weight", E, fs, s.wtype);
            mat(p + "ffn_up_shexp.weight", E, fs, s.wtype);
        }
        mat(p + "ffn_down_shexp.weight", fe * s.n_shared, E, s.wtype);
    }
    for (int il = 0; il < s.n_layer && !moe; il++) {
        const std::string p = "blk." + std::to_string(il) + ".";
        w.tensor(p + "attn_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
        if (s.fused_qkv) {
            mat(p + "attn_qkv.weight", E, q + 2 * kv, s.wtype);
            w.tensor(p + "attn_qkv.bias", {q + 2 * kv}, glm::T_F32, f32_bytes(randv(q + 2 * kv)));
        } else {
            mat(p + "attn_q.weight", E, q, s.wtype);
            mat(p + "attn_k.weight", E, kv, s.wtype);
            mat(p + "attn_v.weight", E, kv, s.wtype);
            w.tensor(p + "attn_q.bias", {q}, glm::T_F32, f32_bytes(randv(q)));
            w.tensor(p + "attn_k.bias", {kv}, glm::T_F32, f32_bytes(randv(kv)));
            w.tensor(p + "attn_v.bias", {kv}, glm::T_F32, f32_bytes(randv(kv)));
        }
        mat(p + "attn_output.weight", q, E, s.wtype);
        if (a == "glm4") w.tensor(p + "post_attention_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
        w.tensor(p + "ffn_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
        mat(p + "ffn_up.weight", E, 2 * (int64_t)s.n_ff, s.wtype);
        mat(p + "ffn_down.weight", s.n_ff, E, s.wtype);
        if (a == "glm4") w.tensor(p + "post_ffw_norm.weight", {E}, glm::T_F32, f32_bytes(onesish(E)));
    }
    return w;
}

inline std::string write_temp(const std::vector<uint8_t> &b, const std::string &tag) {
    std::string path = "/tmp/glm-test-" + std::to_string(::getpid()) + "-" + tag + ".gguf";
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) return "";
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
    return path;
}

} // namespace testgguf

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                              \
            std::fprintf(stderr, __VA_ARGS__);                                                                         \
            std::fprintf(stderr, "\n");                                                                                \
            g_failures++;                                                                                              \
        }                                                                                                              \
    } while (0)
