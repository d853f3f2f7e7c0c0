// Model and context internals behind the C API.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gguf.h"
#include "kernels.h"

namespace glm {

struct Weight {
    const TensorInfo *t = nullptr;
    int32_t kind = -1; // WeightKind
    int64_t in = 0, out = 0;
    size_t row_bytes = 0;
    const uint8_t *packed = nullptr; // panel layout for the active CPU path (Model::ensure_packed)
    size_t panel_bytes = 0;
    explicit operator bool() const { return t != nullptr; }
};

struct Layer {
    const float *attn_norm = nullptr;
    Weight wqkv, wq, wk, wv;
    const float *bqkv = nullptr, *bq = nullptr, *bk = nullptr, *bv = nullptr;
    Weight wo;
    const float *post_attn_norm = nullptr; // glm4
    const float *ffn_norm = nullptr;
    Weight ffn_up, ffn_down;
    const float *post_ffn_norm = nullptr; // glm4
    // glm4moe (docs/moe.md)
    const float *q_norm = nullptr, *k_norm = nullptr;  // optional, [head_dim], per head after the bias
    Weight ffn_gate;                                   // dense lead layers: gate and up are separate
    Weight router;                                     // ffn_gate_inp [n_embd, n_expert], F32
    const float *exp_probs_b = nullptr;                // expert-selection bias [n_expert]
    std::vector<Weight> gate_exps, up_exps, down_exps; // one view per expert
    Weight gate_sh, up_sh, down_sh;                    // the shared expert
    bool is_moe() const { return router.t != nullptr; }
};

// Mixture-of-experts hyper-parameters (glm4moe), read from the file.
struct MoeParams {
    bool on = false;
    int32_t n_expert = 0, n_used = 0, n_shared = 0, n_ff_exp = 0, n_dense_lead = 0;
    int32_t gating = 2; // 1 softmax, 2 sigmoid (llama.cpp's LLAMA_EXPERT_GATING_FUNC_TYPE)
    float weights_scale = 0.0f;
    bool weights_norm = false;
};

// An encoder (GGUF architecture "bert"): absolute positions, post-LayerNorm blocks, GELU FFN.
struct BertLayer {
    Weight wq, wk, wv, wo, ffn_up, ffn_down;
    const float *bq = nullptr, *bk = nullptr, *bv = nullptr, *bo = nullptr, *b_up = nullptr, *b_down = nullptr;
    const float *attn_norm_w = nullptr, *attn_norm_b = nullptr; // attn_output_norm
    const float *out_norm_w = nullptr, *out_norm_b = nullptr;   // layer_output_norm
};

// bert.pooling_type values (llama.cpp's enum llama_pooling_type).
enum BertPooling : int32_t { POOL_NONE = 0, POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3 };

struct Bert {
    Weight type_embd, pos_embd; // token_types [n_embd, n_types], position_embd [n_embd, n_pos]
    const float *embd_norm_w = nullptr, *embd_norm_b = nullptr;
    std::vector<BertLayer> layers;
    int32_t pooling = POOL_MEAN;
    int64_t n_pos = 0; // rows of position_embd: the longest input
};

struct Model {
    GgufFile file;
    glm_model_hparams hp{};
    bool is_glm4 = false;
    bool is_bert = false;
    bool rope_neox = false; // glm4moe: rotate-half pairs (i, i + n_rot/2)
    MoeParams moe;
    std::vector<std::unique_ptr<TensorInfo>> expert_views; // per-expert slices of the 3-D expert tensors
    Bert bert;
    int32_t n_layer_run = 0; // layers the forward pass runs (NextN layers excluded)
    Weight tok_embd, output;
    const float *output_norm = nullptr;
    std::vector<Layer> layers;

    void load(const char *path, const glm_model_params &p);
    void load_bert();    // the rest of load() for architecture "bert" (model.cpp)
    void load_glm4moe(); // the layers of architecture "glm4moe" (model.cpp)
    // Repacks every matrix the kernel path has a panel kernel for, once per model (the first CPU
    // context does it; a CUDA-only model never pays). Thread-safe.
    void ensure_packed(const KernelSet &k);
    // Experts from disk (glm_model_set_experts_from_disk): the routed experts stay in the file
    // mapping, unpacked, and are paged in on demand. Fixed once the weights are packed.
    bool experts_from_disk = false;
    bool packed() const { return packed_done_; }
    int64_t expert_bytes() const; // bytes of the routed experts' tensors
    ~Model();

private:
    std::mutex pack_mu_;
    bool packed_done_ = false;
    uint8_t *packed_ = nullptr; // every repacked matrix, one 2 MiB-aligned allocation
};

// One row of K inputs of a weight of ggml type `type` (block bytes at p) as floats: the CPU
// engine's dequantisation (embedding rows; the reference the CUDA layout test checks against).
void dequant_row_bytes(int32_t type, const uint8_t *p, int64_t K, float *out);

// A persistent pool: parallel_for runs fn(task, thread) for task in [0, n) on all threads,
// including the caller. Results must not depend on which thread runs which task.
class ThreadPool {
public:
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    int size() const { return n_; }
    // Tasks are claimed one at a time; the caller claims too and waits only for tasks that were
    // claimed, never for a worker that has not woken up (robust on oversubscribed machines).
    void parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)> &fn);

private:
    struct Slot {
        std::atomic<const std::function<void(int64_t, int)> *> fn{nullptr};
        std::atomic<int64_t> n{0};
        std::atomic<int64_t> done{0};
    };
    void worker(int id);
    void work(uint32_t gen, int id);
    int n_;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<uint64_t> state_{0}; // generation << 32 | next task
    std::atomic<bool> stop_{false};
    uint32_t gen_ = 0; // caller-side generation counter
    Slot slots_[2];
};

struct Context {
    Model *model = nullptr;
    glm_context_params params{};
    const KernelSet *k = nullptr;
    std::unique_ptr<ThreadPool> pool;
    // KV pool: per layer, K then V, each [n_kv_blocks * block_size][n_head_kv * head_dim].
    std::vector<uint8_t> kv;
    size_t kv_elem = 4;
    size_t kv_layer_stride = 0; // bytes per layer (K and V)
    size_t kv_half = 0;         // bytes of the K part of a layer
    int64_t n_slots = 0;

    // scratch
    std::vector<float> x, h, q, attn, tmp, ffn, ffn2;
    std::vector<float> moe_p, moe_w, moe_out, moe_gh, moe_gu, moe_m, moe_od, moe_sh; // MoE scratch
    std::vector<int32_t> moe_sel;
    std::vector<int64_t> moe_pos;           // each (row, choice) slot's row in the expert-grouped buffers
    std::vector<float> moe_shgu, moe_shm;   // the shared expert's gate|up and silu rows
    std::vector<uint8_t> moe_act, moe_act2; // quantised MoE activations (moe.cpp)
    std::vector<float> rcos, rsin, gx, ga;  // RoPE tables per row; logit rows gathered at the last layer
    std::vector<uint8_t> act;
    std::vector<std::vector<float>> scores; // per thread
    std::vector<std::vector<uint16_t>> q16; // per thread

    // glm_context_profile: per-phase wall seconds of forward (glm_profile_phase), when on.
    bool profile = false;
    double prof[GLM_PROF_COUNT] = {};

    void create(Model *m, const glm_context_params &p);
    void forward(const glm_batch &b, float *logits);
    // glm_context_triad: best bytes/s of a STREAM triad over three arrays of array_bytes each,
    // kept in triad_buf (a, b, c back to back) for the next call of the same size when
    // array_bytes <= kTriadKeepBytes.
    static constexpr int64_t kTriadKeepBytes = (int64_t)64 << 20;
    double triad(int64_t array_bytes, int reps);
    std::vector<double> triad_buf;
    void moe_ffn(const Layer &L, int64_t rows); // glm4moe's routed + shared experts, h -> tmp (moe.cpp)
    // Encoder models: n_seqs whole inputs packed back to back (token_ids[offsets[s]..offsets[s+1])),
    // bidirectional attention within each, one pooled n_embd vector per input into out (bert.cpp).
    void embed(int32_t n_seqs, const int32_t *offsets, const int32_t *token_ids, float *out);
};

// One matrix product of a parallel dispatch (forward.cpp's run_jobs).
struct Job {
    const Weight *w;
    const float *src; // input rows, stride src_stride floats
    int64_t src_stride;
    float *dst; // output rows, stride dst_stride floats
    int64_t dst_stride;
    const float *bias; // optional
};
// Runs several (at most 4) matrix products over the same n rows as one parallel dispatch.
void run_jobs(Context &c, const Job *jobs, int nj, int64_t n);

} // namespace glm
