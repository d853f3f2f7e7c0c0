// CUDA backend of the GLM engine: internal interface (not part of the public C API).
//
// The host side of the engine parses and validates the GGUF file and the batch; this backend gets
// the weights as host pointers (the mapping), uploads them once, owns the KV block pool in device
// memory, and runs one forward step over a mixed batch with the same slot mapping and block tables
// as the CPU backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "glm.h"

namespace glm_cuda {

// One weight as the file stores it: ne0 = row length (inputs), ne1 = rows (outputs).
struct HostTensor {
    const void *data = nullptr; // nullptr: absent (optional tensors)
    int32_t type = -1;          // ggml type number
    int64_t ne0 = 0;
    int64_t ne1 = 1;
};

struct HostLayer {
    HostTensor attn_norm, attn_qkv, attn_qkv_b, attn_q, attn_q_b, attn_k, attn_k_b, attn_v, attn_v_b;
    HostTensor attn_out, post_attn_norm, ffn_norm, ffn_up, ffn_down, post_ffw_norm;
};

struct HostModel {
    bool glm4 = false; // post-attention and post-FFN norms
    int32_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
    int32_t n_rot = 0, n_ff = 0;
    float rope_freq_base = 10000.0f, rms_norm_eps = 1e-5f;
    HostTensor tok_embd, output_norm, output; // output.data == nullptr: tied to tok_embd
    std::vector<HostLayer> layers;
};

struct Params {
    int32_t device = 0;
    int32_t kv_block_size = 16;
    int32_t n_kv_blocks = 0;
    int32_t kv_type = GLM_KV_F16;
    int32_t max_batch_tokens = 2048;
    int32_t max_batch_seqs = 256;
};

struct Context;

// Whether this build has CUDA and a device `device` exists; otherwise *why says why.
bool device_available(int32_t device, std::string *why);

// Uploads weights and allocates the KV pool and scratch. Returns a glm_status.
int32_t create(const HostModel &model, const Params &params, Context **out, std::string *err);

// One forward step. The batch has been validated by the caller against the same rules as the
// CPU backend. Writes n_logits * n_vocab floats into host memory `logits`.
int32_t forward(Context *ctx, const glm_batch *batch, float *logits, std::string *err);

void destroy(Context *ctx);

// Device memory the context holds, bytes (weights, KV pool, scratch).
int64_t device_bytes(const Context *ctx);

} // namespace glm_cuda
