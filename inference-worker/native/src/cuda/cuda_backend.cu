// CUDA backend of the GLM engine. See cuda_backend.h.
//
// Numerics follow the CPU backend (and llama.cpp's CPU backend, which made the golden files):
// activations are quantised before each quantised matmul (Q8_0 blocks of 32 for Q8_0/Q4_0 weights,
// Q8_K blocks of 256 for Q6_K/Q4_K/Q5_K), rounded to F16/BF16 for F16/BF16 weights, and kept F32 for F32
// weights; RMSNorm sums squares in double; RoPE angles by repeated float multiplication.
//
// Batch invariance: every output element of every kernel is computed by the same instruction
// sequence whatever the batch holds (one warp per output row, lanes striding the reduction
// dimension in a fixed order, a fixed shuffle tree), with explicit _rn intrinsics so the compiler
// cannot contract differently in different instantiations.

#include "cuda_backend.h"
#include "cuda_layout.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace glm_cuda {

namespace {

enum : int32_t { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_BF16 = 30 };

// Activation formats a weight type consumes.
enum ActKind : int { ACT_F32 = 0, ACT_F16 = 1, ACT_BF16 = 2, ACT_Q8_0 = 3, ACT_Q8_K = 4 };

int act_kind_for(int32_t wtype) {
    switch (wtype) {
        case T_F32:
            return ACT_F32;
        case T_F16:
            return ACT_F16;
        case T_BF16:
            return ACT_BF16;
        case T_Q8_0:
        case T_Q4_0:
            return ACT_Q8_0;
        case T_Q6_K:
        case T_Q4_K:
        case T_Q5_K:
            return ACT_Q8_K;
        default:
            return -1;
    }
}

struct CudaError {
    std::string msg;
};

#define CK(call)                                                                                                       \
    do {                                                                                                               \
        cudaError_t e_ = (call);                                                                                       \
        if (e_ != cudaSuccess) {                                                                                       \
            throw CudaError{std::string(#call) + ": " + cudaGetErrorString(e_)};                                       \
        }                                                                                                              \
    } while (0)

// ---- weights on the device ----------------------------------------------------------------

// Repacked for aligned vector loads:
//  F32/F16/BF16: q = rows x K elements.
//  Q8_0: q = int8 rows x K, s = float rows x K/32 (the fp16 scale, widened).
//  Q4_0: q = uint8 rows x K/2 (each 32-block's 16 bytes as in the file), s = float rows x K/32.
//  Q6_K: q = int8 rows x K (value - 32), sc = int8 rows x K/16, s = float rows x K/256 (d).
//  Q4_K/Q5_K: q = uint8 rows x K/2 (16 nibble bytes per 32-input unit), qh = uint32 rows x K/32
//        (Q5_K's fifth bits), ksc/kmn = uint8 rows x K/32, s = d and dmin = float rows x K/256.
//  Q6_K and Q4_K/Q5_K rows are converted by cuda_layout.h, which documents them exactly.
struct DevWeight {
    int32_t type = -1;
    int64_t K = 0, N = 0;
    void *q = nullptr;
    float *s = nullptr;
    int8_t *sc = nullptr;
    uint32_t *qh = nullptr;
    uint8_t *ksc = nullptr, *kmn = nullptr;
    float *dmin = nullptr;
};

struct DevLayer {
    float *attn_norm = nullptr, *post_attn_norm = nullptr, *ffn_norm = nullptr, *post_ffw_norm = nullptr;
    DevWeight wqkv, wq, wk, wv, wo, up, down;
    bool fused = false;
    float *bqkv = nullptr, *bq = nullptr, *bk = nullptr, *bv = nullptr;
};

// Activation buffers for one matmul input (only the kinds in use are filled).
struct DevAct {
    float *f32 = nullptr;          // T x K
    __half *f16 = nullptr;         // T x K
    __nv_bfloat16 *bf16 = nullptr; // T x K
    int8_t *q8 = nullptr;          // T x K
    float *d = nullptr;            // T x K/32 (Q8_0) or T x K/256 (Q8_K)
    int64_t K = 0;
    int kind = -1;
};

inline float h2f_host(uint16_t h) {
    __half_raw r;
    r.x = h;
    return __half2float(__half(r));
}

} // namespace

struct Context {
    HostModel hm;
    Params p;
    int32_t n_q = 0, n_kv = 0; // q width (n_head*hd), k/v width (n_head_kv*hd)
    std::vector<void *> allocations;
    int64_t bytes = 0;

    float *tok_f32_unused = nullptr;
    DevWeight tok_embd, output;
    float *output_norm = nullptr;
    std::vector<DevLayer> layers;

    // KV pool: per layer K and V, n_slots x n_kv, f16 or f32.
    std::vector<void *> k_cache, v_cache;

    // Per-step inputs (device) and their host staging (pinned), packed with the block tables last,
    // so the device pointers a step's kernels take depend only on (T, S, n_logits).
    int32_t *d_in = nullptr;
    int32_t *h_in = nullptr;
    int64_t in_cap = 0;

    // Decode steps as CUDA graphs, one per (tokens, sequences, logit rows) shape: a 1 B model's step
    // is ~300 small kernels, and replaying them as one graph removes most of the launch gaps.
    // Captured the first time a shape is seen; dropped when the input regions move.
    bool use_graphs = true;
    std::map<std::array<int32_t, 3>, cudaGraphExec_t> graphs;

    // Scratch.
    float *x = nullptr, *h = nullptr, *qkv = nullptr, *attn = nullptr, *tmp = nullptr, *ffn = nullptr, *mid = nullptr;
    float *logits = nullptr;
    DevAct act;
    cudaStream_t stream = nullptr;

    void *alloc(size_t n) {
        void *ptr = nullptr;
        CK(cudaMalloc(&ptr, n == 0 ? 1 : n));
        allocations.push_back(ptr);
        bytes += (int64_t)n;
        return ptr;
    }

    void drop_graphs() {
        for (auto &g : graphs) cudaGraphExecDestroy(g.second);
        graphs.clear();
    }

    ~Context() {
        drop_graphs();
        for (void *a : allocations) cudaFree(a);
        if (h_in) cudaFreeHost(h_in);
        if (stream) cudaStreamDestroy(stream);
    }
};

namespace {

// ---- host-side repacking ------------------------------------------------------------------

void upload(Context &c, void *dst, const void *src, size_t n) { CK(cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice)); }

DevWeight upload_weight(Context &c, const HostTensor &t) {
    DevWeight w;
    w.type = t.type;
    w.K = t.ne0;
    w.N = t.ne1;
    const int64_t K = t.ne0, N = t.ne1;
    switch (t.type) {
        case T_F32:
            w.q = c.alloc(sizeof(float) * K * N);
            upload(c, w.q, t.data, sizeof(float) * K * N);
            break;
        case T_F16:
        case T_BF16:
            w.q = c.alloc(2 * K * N);
            upload(c, w.q, t.data, 2 * K * N);
            break;
        case T_Q8_0: {
            const int64_t nb = K / 32;
            std::vector<int8_t> q(K * N);
            std::vector<float> s(nb * N);
            const uint8_t *src = (const uint8_t *)t.data;
            for (int64_t r = 0; r < N; r++) {
                for (int64_t b = 0; b < nb; b++) {
                    const uint8_t *blk = src + (r * nb + b) * glm::kQ8_0Bytes;
                    uint16_t d;
                    memcpy(&d, blk, 2);
                    s[r * nb + b] = h2f_host(d);
                    memcpy(&q[r * K + b * 32], blk + 2, 32);
                }
            }
            w.q = c.alloc(q.size());
            w.s = (float *)c.alloc(sizeof(float) * s.size());
            upload(c, w.q, q.data(), q.size());
            upload(c, w.s, s.data(), sizeof(float) * s.size());
            break;
        }
        case T_Q4_0: {
            const int64_t nb = K / 32;
            std::vector<uint8_t> q(K / 2 * N);
            std::vector<float> s(nb * N);
            const uint8_t *src = (const uint8_t *)t.data;
            for (int64_t r = 0; r < N; r++) {
                for (int64_t b = 0; b < nb; b++) {
                    const uint8_t *blk = src + (r * nb + b) * glm::kQ4_0Bytes;
                    uint16_t d;
                    memcpy(&d, blk, 2);
                    s[r * nb + b] = h2f_host(d);
                    memcpy(&q[r * (K / 2) + b * 16], blk + 2, 16);
                }
            }
            w.q = c.alloc(q.size());
            w.s = (float *)c.alloc(sizeof(float) * s.size());
            upload(c, w.q, q.data(), q.size());
            upload(c, w.s, s.data(), sizeof(float) * s.size());
            break;
        }
        case T_Q6_K: {
            const int64_t nb = K / 256;
            std::vector<int8_t> q(K * N), sc(K / 16 * N);
            std::vector<float> s(nb * N);
            const uint8_t *src = (const uint8_t *)t.data;
            for (int64_t r = 0; r < N; r++) {
                layout::q6k_convert_row(src + r * nb * layout::kQ6KBytes, K, &q[r * K], &sc[r * (K / 16)], &s[r * nb]);
            }
            w.q = c.alloc(q.size());
            w.sc = (int8_t *)c.alloc(sc.size());
            w.s = (float *)c.alloc(sizeof(float) * s.size());
            upload(c, w.q, q.data(), q.size());
            upload(c, w.sc, sc.data(), sc.size());
            upload(c, w.s, s.data(), sizeof(float) * s.size());
            break;
        }
        case T_Q4_K:
        case T_Q5_K: {
            const bool q5 = t.type == T_Q5_K;
            const int64_t nb = K / 256, nu = K / 32;
            const int64_t bb = q5 ? layout::kQ5KBytes : layout::kQ4KBytes;
            std::vector<uint8_t> q(K / 2 * N), sc(nu * N), mn(nu * N);
            std::vector<uint32_t> qh(q5 ? nu * N : 0);
            std::vector<float> d(nb * N), dmin(nb * N);
            const uint8_t *src = (const uint8_t *)t.data;
            for (int64_t r = 0; r < N; r++) {
                layout::kq_convert_row(src + r * nb * bb, q5, K, &q[r * (K / 2)], q5 ? &qh[r * nu] : nullptr,
                                       &sc[r * nu], &mn[r * nu], &d[r * nb], &dmin[r * nb]);
            }
            w.q = c.alloc(q.size());
            w.ksc = (uint8_t *)c.alloc(sc.size());
            w.kmn = (uint8_t *)c.alloc(mn.size());
            w.s = (float *)c.alloc(sizeof(float) * d.size());
            w.dmin = (float *)c.alloc(sizeof(float) * dmin.size());
            upload(c, w.q, q.data(), q.size());
            upload(c, w.ksc, sc.data(), sc.size());
            upload(c, w.kmn, mn.data(), mn.size());
            upload(c, w.s, d.data(), sizeof(float) * d.size());
            upload(c, w.dmin, dmin.data(), sizeof(float) * dmin.size());
            if (q5) {
                w.qh = (uint32_t *)c.alloc(sizeof(uint32_t) * qh.size());
                upload(c, w.qh, qh.data(), sizeof(uint32_t) * qh.size());
            }
            break;
        }
        default:
            throw CudaError{"tensor type " + std::to_string(t.type) + " is not supported by the CUDA backend"};
    }
    return w;
}

float *upload_f32(Context &c, const HostTensor &t) {
    if (!t.data) return nullptr;
    if (t.type != T_F32) throw CudaError{"norm weights and biases must be F32"};
    const size_t n = sizeof(float) * t.ne0 * t.ne1;
    float *d = (float *)c.alloc(n);
    upload(c, d, t.data, n);
    return d;
}

// ---- kernels ------------------------------------------------------------------------------

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = __fadd_rn(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Embedding rows: x[t] = dequant(tok_embd[ids[t]]).
__global__ void k_get_rows(DevWeight w, const int32_t *ids, float *x, int64_t K) {
    const int t = blockIdx.x;
    const int64_t r = ids[t];
    float *out = x + (int64_t)t * K;
    for (int64_t i = threadIdx.x; i < K; i += blockDim.x) {
        float v;
        switch (w.type) {
            case T_F32:
                v = ((const float *)w.q)[r * K + i];
                break;
            case T_F16:
                v = __half2float(((const __half *)w.q)[r * K + i]);
                break;
            case T_BF16:
                v = __bfloat162float(((const __nv_bfloat16 *)w.q)[r * K + i]);
                break;
            case T_Q8_0:
                v = __fmul_rn((float)((const int8_t *)w.q)[r * K + i], w.s[r * (K / 32) + i / 32]);
                break;
            case T_Q4_0: {
                const int64_t b = i / 32, j = i % 32;
                const uint8_t byte = ((const uint8_t *)w.q)[r * (K / 2) + b * 16 + (j & 15)];
                const int nib = j < 16 ? (byte & 0xF) : (byte >> 4);
                v = __fmul_rn((float)(nib - 8), w.s[r * (K / 32) + b]);
                break;
            }
            case T_Q6_K:
                v = layout::q6k_value((const int8_t *)w.q + r * K, w.sc + r * (K / 16), w.s + r * (K / 256), i);
                break;
            case T_Q4_K:
            case T_Q5_K:
                v = layout::kq_value((const uint8_t *)w.q + r * (K / 2), w.qh ? w.qh + r * (K / 32) : nullptr,
                                     w.ksc + r * (K / 32), w.kmn + r * (K / 32), w.s + r * (K / 256),
                                     w.dmin + r * (K / 256), i);
                break;
            default:
                v = 0.0f;
        }
        out[i] = v;
    }
}

// out[row] = (x[row] * 1/sqrt(mean(x^2)+eps)) * w; the sum of squares in double. Optionally gathers
// rows through `rows` (logit rows) and optionally adds the result to `residual` (glm4 post-norms).
// One block per row; 1,024 threads so a decode step's single row is read with enough loads in flight.
// The summation order depends on the block size only, never on the batch.
constexpr int RMS_THREADS = 1024;
__global__ void k_rms_norm(const float *x, const int32_t *rows, const float *w, float *out, float *residual, int64_t K,
                           float eps) {
    const int r = blockIdx.x;
    const int src = rows ? rows[r] : r;
    const float *xr = x + (int64_t)src * K;
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < K; i += blockDim.x) acc += (double)__fmul_rn(xr[i], xr[i]);
    __shared__ double part[32];
    acc = warp_sum_d(acc);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x < 32) {
        double v = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : 0.0;
        v = warp_sum_d(v);
        if (threadIdx.x == 0) part[0] = v;
    }
    __syncthreads();
    const float mean = (float)(part[0] / (double)K);
    const float scale = 1.0f / sqrtf(__fadd_rn(mean, eps));
    for (int64_t i = threadIdx.x; i < K; i += blockDim.x) {
        const float y = __fmul_rn(__fmul_rn(xr[i], scale), w[i]);
        if (residual) {
            residual[(int64_t)r * K + i] = __fadd_rn(residual[(int64_t)r * K + i], y);
        } else {
            out[(int64_t)r * K + i] = y;
        }
    }
}

// Activation preparation: grid (rows, chunks of ACT_WARPS quant blocks), one warp per quant block,
// so a single row (batch-1 decode) is spread over the whole GPU rather than one multiprocessor.
constexpr int ACT_WARPS = 8;
__global__ void k_act_q8_0(const float *x, int64_t K, int8_t *q, float *d) {
    const int t = blockIdx.x;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    {
        const int64_t b = (int64_t)blockIdx.y * ACT_WARPS + warp;
        if (b >= K / 32) return;
        const float v = x[(int64_t)t * K + b * 32 + lane];
        const float amax = warp_max(fabsf(v));
        const float dd = amax / 127.0f;
        const float id = dd != 0.0f ? 127.0f / amax : 0.0f;
        q[(int64_t)t * K + b * 32 + lane] = (int8_t)__float2int_rn(__fmul_rn(v, id));
        if (lane == 0) d[(int64_t)t * (K / 32) + b] = __half2float(__float2half_rn(dd));
    }
}

// Q8_K: blocks of 256, scale 1/iscale with iscale = -127/max, max the signed value of largest
// magnitude (first occurrence on ties), q = nearest(iscale*x) clamped to 127.
__global__ void k_act_q8_k(const float *x, int64_t K, int8_t *q, float *d) {
    const int t = blockIdx.x;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    {
        const int64_t b = (int64_t)blockIdx.y * ACT_WARPS + warp;
        if (b >= K / 256) return;
        const float *xb = x + (int64_t)t * K + b * 256;
        float best = 0.0f;
        int best_i = 0x7fffffff;
        for (int j = lane; j < 256; j += 32) {
            const float ax = fabsf(xb[j]);
            if (ax > best) {
                best = ax;
                best_i = j;
            }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ob = __shfl_xor_sync(0xffffffffu, best, o);
            const int oi = __shfl_xor_sync(0xffffffffu, best_i, o);
            if (ob > best || (ob == best && oi < best_i)) {
                best = ob;
                best_i = oi;
            }
        }
        int8_t *qb = q + (int64_t)t * K + b * 256;
        if (best == 0.0f) {
            for (int j = lane; j < 256; j += 32) qb[j] = 0;
            if (lane == 0) d[(int64_t)t * (K / 256) + b] = 0.0f;
            return;
        }
        const float mx = xb[best_i];
        const float iscale = -127.0f / mx;
        for (int j = lane; j < 256; j += 32) {
            const int v = __float2int_rn(__fmul_rn(iscale, xb[j]));
            qb[j] = (int8_t)min(127, v);
        }
        if (lane == 0) d[(int64_t)t * (K / 256) + b] = 1.0f / iscale;
    }
}

__global__ void k_act_f16(const float *x, int64_t n, __half *out) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __float2half_rn(x[i]);
}

__global__ void k_act_bf16(const float *x, int64_t n, __nv_bfloat16 *out) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __float2bfloat16_rn(x[i]);
}

__device__ __forceinline__ int dp4(int a, int b, int c) { return __dp4a(a, b, c); }

// y[t*ldy + o] = W[o] . a[t] (+ bias[o]) for rows o and tokens t of this tile.
// One warp per output row; lane l takes 32-element units l, l+32, ...; per-token accumulators.
template <int WT, int TT>
__global__ void k_matmul(DevWeight w, DevAct a, int T, float *y, int64_t ldy, const float *bias) {
    const int lane = threadIdx.x & 31;
    const int64_t o = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int t0 = blockIdx.y * TT;
    if (o >= w.N) return;
    const int nt = min(TT, T - t0);
    const int64_t K = w.K;
    const int64_t nu = K / 32;
    float acc[TT];
#pragma unroll
    for (int t = 0; t < TT; t++) acc[t] = 0.0f;

    for (int64_t u = lane; u < nu; u += 32) {
        if constexpr (WT == T_Q8_0) {
            const int4 *wp = (const int4 *)((const int8_t *)w.q + o * K + u * 32);
            const int4 w0 = wp[0], w1 = wp[1];
            const float dw = w.s[o * nu + u];
#pragma unroll
            for (int t = 0; t < TT; t++) {
                if (t < nt) {
                    const int4 *ap = (const int4 *)(a.q8 + (int64_t)(t0 + t) * K + u * 32);
                    const int4 a0 = ap[0], a1 = ap[1];
                    int s = 0;
                    s = dp4(w0.x, a0.x, s);
                    s = dp4(w0.y, a0.y, s);
                    s = dp4(w0.z, a0.z, s);
                    s = dp4(w0.w, a0.w, s);
                    s = dp4(w1.x, a1.x, s);
                    s = dp4(w1.y, a1.y, s);
                    s = dp4(w1.z, a1.z, s);
                    s = dp4(w1.w, a1.w, s);
                    const float da = a.d[(int64_t)(t0 + t) * nu + u];
                    acc[t] = __fmaf_rn(__fmul_rn(dw, da), (float)s, acc[t]);
                }
            }
        } else if constexpr (WT == T_Q4_0) {
            const int4 wv = *(const int4 *)((const uint8_t *)w.q + o * (K / 2) + u * 16);
            const float dw = w.s[o * nu + u];
            const int lo0 = wv.x & 0x0F0F0F0F, lo1 = wv.y & 0x0F0F0F0F, lo2 = wv.z & 0x0F0F0F0F,
                      lo3 = wv.w & 0x0F0F0F0F;
            const int hi0 = (wv.x >> 4) & 0x0F0F0F0F, hi1 = (wv.y >> 4) & 0x0F0F0F0F;
            const int hi2 = (wv.z >> 4) & 0x0F0F0F0F, hi3 = (wv.w >> 4) & 0x0F0F0F0F;
#pragma unroll
            for (int t = 0; t < TT; t++) {
                if (t < nt) {
                    const int4 *ap = (const int4 *)(a.q8 + (int64_t)(t0 + t) * K + u * 32);
                    const int4 a0 = ap[0], a1 = ap[1];
                    int s = 0, sa = 0;
                    s = dp4(lo0, a0.x, s);
                    s = dp4(lo1, a0.y, s);
                    s = dp4(lo2, a0.z, s);
                    s = dp4(lo3, a0.w, s);
                    s = dp4(hi0, a1.x, s);
                    s = dp4(hi1, a1.y, s);
                    s = dp4(hi2, a1.z, s);
                    s = dp4(hi3, a1.w, s);
                    const int ones = 0x01010101;
                    sa = dp4(ones, a0.x, sa);
                    sa = dp4(ones, a0.y, sa);
                    sa = dp4(ones, a0.z, sa);
                    sa = dp4(ones, a0.w, sa);
                    sa = dp4(ones, a1.x, sa);
                    sa = dp4(ones, a1.y, sa);
                    sa = dp4(ones, a1.z, sa);
                    sa = dp4(ones, a1.w, sa);
                    s -= 8 * sa;
                    const float da = a.d[(int64_t)(t0 + t) * nu + u];
                    acc[t] = __fmaf_rn(__fmul_rn(dw, da), (float)s, acc[t]);
                }
            }
        } else if constexpr (WT == T_Q6_K) {
            const int4 *wp = (const int4 *)((const int8_t *)w.q + o * K + u * 32);
            const int4 w0 = wp[0], w1 = wp[1];
            const int sc0 = w.sc[o * (K / 16) + u * 2], sc1 = w.sc[o * (K / 16) + u * 2 + 1];
            const float dw = w.s[o * (K / 256) + u / 8];
#pragma unroll
            for (int t = 0; t < TT; t++) {
                if (t < nt) {
                    const int4 *ap = (const int4 *)(a.q8 + (int64_t)(t0 + t) * K + u * 32);
                    const int4 a0 = ap[0], a1 = ap[1];
                    int s0 = 0, s1 = 0;
                    s0 = dp4(w0.x, a0.x, s0);
                    s0 = dp4(w0.y, a0.y, s0);
                    s0 = dp4(w0.z, a0.z, s0);
                    s0 = dp4(w0.w, a0.w, s0);
                    s1 = dp4(w1.x, a1.x, s1);
                    s1 = dp4(w1.y, a1.y, s1);
                    s1 = dp4(w1.z, a1.z, s1);
                    s1 = dp4(w1.w, a1.w, s1);
                    const float da = a.d[(int64_t)(t0 + t) * (K / 256) + u / 8];
                    acc[t] = __fmaf_rn(__fmul_rn(dw, da), (float)(sc0 * s0 + sc1 * s1), acc[t]);
                }
            }
        } else if constexpr (WT == T_F16) {
            const int4 *wp = (const int4 *)((const __half *)w.q + o * K + u * 32);
#pragma unroll
            for (int t = 0; t < TT; t++) {
                if (t < nt) {
                    const int4 *ap = (const int4 *)(a.f16 + (int64_t)(t0 + t) * K + u * 32);
                    float s = acc[t];
#pragma unroll
                    for (int v = 0; v < 4; v++) {
                        const int4 wv = wp[v], av = ap[v];
                        const __half2 *wh = (const __half2 *)&wv;
                        const __half2 *ah = (const __half2 *)&av;
#pragma unroll
                        for (int e = 0; e < 4; e++) {
                            const float2 wf = __half22float2(wh[e]);
                            const float2 af = __half22float2(ah[e]);
                            s = __fmaf_rn(wf.x, af.x, s);
                            s = __fmaf_rn(wf.y, af.y, s);
                        }
                    }
                    acc[t] = s;
                }
            }
        } else if constexpr (WT == T_BF16) {
            const int4 *wp = (const int4 *)((const __nv_bfloat16 *)w.q + o * K + u * 32);
#pragma unroll
            for (int t = 0; t < TT; t++) {
                if (t < nt) {
                    const int4 *ap = (const int4 *)(a.bf16 + (int64_t)(t0 + t) * K + u * 32);
                    float s = acc[t];
#pragma unroll
                    for (int v = 0; v < 4; v++) {
                        const int4 wv = wp[v], av = ap[v];
                        const __nv_bfloat162 *wh = (const __nv_bfloat162 *)&wv;
                        const __nv_bfloat162 *ah = (const __nv_bfloat162 *)&av;
#pragma unroll
                        for (int e = 0; e < 4; e++) {
                            const float2 wf = __bfloat1622float2(wh[e]);
                            const float2 af = __bfloat1622float2(ah[e]);
                            s = __fmaf_rn(wf.x, af.x, s);
                            s = __fmaf_rn(wf.y, af.y, s);
                        }
                    }
                    acc[t] = s;
                }
            }
        } else { // F32
            const float4 *wp = (const float4 *)((const float *)w.q + o * K + u * 32);
#pragma unroll
            for (int t = 0; t < TT; t++) {
                if (t < nt) {
                    const float4 *ap = (const float4 *)(a.f32 + (int64_t)(t0 + t) * K + u * 32);
                    float s = acc[t];
#pragma unroll
                    for (int v = 0; v < 8; v++) {
                        const float4 wv = wp[v], av = ap[v];
                        s = __fmaf_rn(wv.x, av.x, s);
                        s = __fmaf_rn(wv.y, av.y, s);
                        s = __fmaf_rn(wv.z, av.z, s);
                        s = __fmaf_rn(wv.w, av.w, s);
                    }
                    acc[t] = s;
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TT; t++) {
        const float v = warp_sum(acc[t]);
        if (lane == 0 && t < nt) y[(int64_t)(t0 + t) * ldy + o] = bias ? __fadd_rn(v, bias[o]) : v;
    }
}

// Q4_K / Q5_K against Q8_K activations, same grid and batch-invariance contract as k_matmul.
// Lane l takes unit base + l (32 inputs, one sub-block); the 8 lanes of a super-block (an aligned
// group of 8, as K/32 is a multiple of 8) add its exact integer sums with shuffles, and the
// group's first lane adds the super-block's two float terms in the CPU reference's order
// (cuda_layout.h). Every lane runs every iteration so that the shuffles see the whole warp.
template <int WT, int TT>
__global__ void k_matmul_kq(DevWeight w, DevAct a, int T, float *y, int64_t ldy, const float *bias) {
    const int lane = threadIdx.x & 31;
    const int64_t o = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int t0 = blockIdx.y * TT;
    if (o >= w.N) return; // whole warps
    const int nt = min(TT, T - t0);
    const int64_t K = w.K;
    const int64_t nu = K / 32, nb = K / 256;
    float acc[TT];
#pragma unroll
    for (int t = 0; t < TT; t++) acc[t] = 0.0f;

    for (int64_t base = 0; base < nu; base += 32) {
        const int64_t u = base + lane;
        const bool live = u < nu;
        layout::KqUnit wu{};
        float dw = 0.0f, dmw = 0.0f;
        if (live) {
            wu = layout::kq_load_unit((const uint8_t *)w.q + o * (K / 2), WT == T_Q5_K ? w.qh + o * nu : nullptr,
                                      w.ksc + o * nu, w.kmn + o * nu, u);
            dw = w.s[o * nb + u / 8];
            dmw = w.dmin[o * nb + u / 8];
        }
#pragma unroll
        for (int t = 0; t < TT; t++) {
            if (t < nt) {
                int isum = 0, msum = 0;
                if (live) layout::kq_unit_sums(wu, a.q8 + (int64_t)(t0 + t) * K, u, &isum, &msum);
#pragma unroll
                for (int off = 1; off < 8; off <<= 1) {
                    isum += __shfl_xor_sync(0xffffffffu, isum, off);
                    msum += __shfl_xor_sync(0xffffffffu, msum, off);
                }
                if (live && (lane & 7) == 0) {
                    const float da = a.d[(int64_t)(t0 + t) * nb + u / 8];
                    acc[t] = layout::kq_accumulate(acc[t], dw, dmw, da, isum, msum);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TT; t++) {
        const float v = warp_sum(acc[t]);
        if (lane == 0 && t < nt) y[(int64_t)(t0 + t) * ldy + o] = bias ? __fadd_rn(v, bias[o]) : v;
    }
}

// RoPE (NORM mode: adjacent pairs over the first n_rot dims) on q and k in place, then K/V written
// to their slots. One block per token; threads over (head, pair).
template <typename KV>
__global__ void k_rope_store(float *qkv, int64_t ld, const int32_t *pos, const int32_t *slots, int n_head,
                             int n_head_kv, int hd, int n_rot, float theta_scale, KV *kc, KV *vc) {
    const int t = blockIdx.x;
    float *row = qkv + (int64_t)t * ld;
    const float p = (float)pos[t];
    const int pairs = n_rot / 2;
    const int total = (n_head + n_head_kv) * pairs;
    for (int i = threadIdx.x; i < total; i += blockDim.x) {
        const int head = i / pairs, pr = i % pairs;
        float theta = p;
        for (int j = 0; j < pr; j++) theta = __fmul_rn(theta, theta_scale);
        const float cs = cosf(theta), sn = sinf(theta);
        float *v = row + (int64_t)head * hd + 2 * pr; // q heads then k heads are contiguous
        const float x0 = v[0], x1 = v[1];
        v[0] = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
        v[1] = __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs));
    }
    __syncthreads();
    const int nkv = n_head_kv * hd;
    const int64_t slot = slots[t];
    const float *k = row + (int64_t)n_head * hd;
    const float *v = k + nkv;
    for (int i = threadIdx.x; i < nkv; i += blockDim.x) {
        if constexpr (sizeof(KV) == 2) {
            kc[slot * nkv + i] = __float2half_rn(k[i]);
            vc[slot * nkv + i] = __float2half_rn(v[i]);
        } else {
            kc[slot * nkv + i] = k[i];
            vc[slot * nkv + i] = v[i];
        }
    }
}

__device__ __forceinline__ float kv_load(const float *p) { return *p; }
__device__ __forceinline__ float kv_load(const __half *p) { return __half2float(*p); }

constexpr int ATT_TILE = 128;

// Causal attention of one token and one head over its sequence, through the block table, with an
// online softmax over tiles of positions. blockDim.x == ATT_TILE.
template <typename KV>
__global__ void k_attention(const float *qkv, int64_t ld, const int32_t *pos, const int32_t *seq, const int32_t *bt_off,
                            const int32_t *bt, int bs, int n_head, int n_head_kv, int hd, float scale, const KV *kc,
                            const KV *vc, float *out, int64_t ldo) {
    const int t = blockIdx.x, hq = blockIdx.y;
    const int hk = hq / (n_head / n_head_kv);
    const int nkv = n_head_kv * hd;
    extern __shared__ float sm[];
    float *q = sm;                    // hd
    float *pr = sm + hd;              // ATT_TILE
    int *sl = (int *)(pr + ATT_TILE); // ATT_TILE
    __shared__ float red[32];
    for (int d = threadIdx.x; d < hd; d += blockDim.x) q[d] = qkv[(int64_t)t * ld + (int64_t)hq * hd + d];
    const int n_ctx = pos[t] + 1;
    const int32_t *table = bt + bt_off[seq[t]];
    float m = -INFINITY, l = 0.0f;
    float acc[4] = {0.f, 0.f, 0.f, 0.f}; // dims threadIdx.x + k*ATT_TILE, hd <= 512
    __syncthreads();
    for (int j0 = 0; j0 < n_ctx; j0 += ATT_TILE) {
        const int j = j0 + threadIdx.x;
        float s = -INFINITY;
        if (j < n_ctx) {
            const int slot = table[j / bs] * bs + j % bs;
            sl[threadIdx.x] = slot;
            const KV *kr = kc + (int64_t)slot * nkv + (int64_t)hk * hd;
            float dot = 0.0f;
            for (int d = 0; d < hd; d++) dot = __fmaf_rn(kv_load(kr + d), q[d], dot);
            s = __fmul_rn(dot, scale);
        }
        // tile max
        float tm = warp_max(s);
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = tm;
        __syncthreads();
        tm = red[0];
        for (int w = 1; w < ATT_TILE / 32; w++) tm = fmaxf(tm, red[w]);
        __syncthreads();
        const float m_new = fmaxf(m, tm);
        const float alpha = m == -INFINITY ? 0.0f : expf(__fsub_rn(m, m_new));
        const float pj = j < n_ctx ? expf(__fsub_rn(s, m_new)) : 0.0f;
        pr[threadIdx.x] = pj;
        float ts = warp_sum(pj);
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = ts;
        __syncthreads();
        ts = red[0];
        for (int w = 1; w < ATT_TILE / 32; w++) ts = __fadd_rn(ts, red[w]);
        l = __fmaf_rn(l, alpha, ts);
        m = m_new;
        const int nj = min(ATT_TILE, n_ctx - j0);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const int d = threadIdx.x + k * ATT_TILE;
            if (d < hd) {
                float a = __fmul_rn(acc[k], alpha);
                for (int jj = 0; jj < nj; jj++) {
                    a = __fmaf_rn(pr[jj], kv_load(vc + (int64_t)sl[jj] * nkv + (int64_t)hk * hd + d), a);
                }
                acc[k] = a;
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int k = 0; k < 4; k++) {
        const int d = threadIdx.x + k * ATT_TILE;
        if (d < hd) out[(int64_t)t * ldo + (int64_t)hq * hd + d] = __fdiv_rn(acc[k], l);
    }
}

// m[t][i] = silu(g) * u, where [g | u] = ffn[t].
__global__ void k_swiglu(const float *ffn, int64_t n_ff, int T, float *m) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)T * n_ff) return;
    const int64_t t = i / n_ff, j = i % n_ff;
    const float g = ffn[t * 2 * n_ff + j], u = ffn[t * 2 * n_ff + n_ff + j];
    const float s = __fdiv_rn(g, __fadd_rn(1.0f, expf(-g)));
    m[i] = __fmul_rn(s, u);
}

__global__ void k_add(float *x, const float *a, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = __fadd_rn(x[i], a[i]);
}

// ---- host orchestration ------------------------------------------------------------------

inline unsigned blocks_for(int64_t n, int per) { return (unsigned)((n + per - 1) / per); }

void prepare_act(Context &c, const float *x, int T, int64_t K, int kind) {
    DevAct &a = c.act;
    a.K = K;
    a.kind = kind;
    switch (kind) {
        case ACT_F32:
            a.f32 = (float *)x;
            break;
        case ACT_F16:
            k_act_f16<<<blocks_for((int64_t)T * K, 256), 256, 0, c.stream>>>(x, (int64_t)T * K, a.f16);
            break;
        case ACT_BF16:
            k_act_bf16<<<blocks_for((int64_t)T * K, 256), 256, 0, c.stream>>>(x, (int64_t)T * K, a.bf16);
            break;
        case ACT_Q8_0:
            k_act_q8_0<<<dim3(T, blocks_for(K / 32, ACT_WARPS)), 32 * ACT_WARPS, 0, c.stream>>>(x, K, a.q8, a.d);
            break;
        case ACT_Q8_K:
            k_act_q8_k<<<dim3(T, blocks_for(K / 256, ACT_WARPS)), 32 * ACT_WARPS, 0, c.stream>>>(x, K, a.q8, a.d);
            break;
    }
}

template <int WT, int TT>
void launch_tile(Context &c, const DevWeight &w, int T, float *y, int64_t ldy, const float *bias, int warps) {
    const dim3 grid(blocks_for(w.N, warps), blocks_for(T, TT)), block(32 * warps);
    if constexpr (WT == T_Q4_K || WT == T_Q5_K) {
        k_matmul_kq<WT, TT><<<grid, block, 0, c.stream>>>(w, c.act, T, y, ldy, bias);
    } else {
        k_matmul<WT, TT><<<grid, block, 0, c.stream>>>(w, c.act, T, y, ldy, bias);
    }
}

template <int WT>
void launch_matmul_t(Context &c, const DevWeight &w, int T, float *y, int64_t ldy, const float *bias) {
    constexpr int WARPS = 4;
    if (T >= 16) {
        launch_tile<WT, 16>(c, w, T, y, ldy, bias, WARPS);
    } else if (T >= 4) {
        launch_tile<WT, 4>(c, w, T, y, ldy, bias, WARPS);
    } else {
        launch_tile<WT, 1>(c, w, T, y, ldy, bias, WARPS);
    }
}

// y = W . x for T rows of x (x prepared lazily in the weight's activation format).
void matmul(Context &c, const DevWeight &w, const float *x, int T, float *y, int64_t ldy, const float *bias) {
    const int kind = act_kind_for(w.type);
    if (!(c.act.kind == kind && c.act.f32 == x)) {
        prepare_act(c, x, T, w.K, kind);
        c.act.f32 = (float *)x; // remember the source; the f32 kind reads it directly
    }
    switch (w.type) {
        case T_F32:
            launch_matmul_t<T_F32>(c, w, T, y, ldy, bias);
            break;
        case T_F16:
            launch_matmul_t<T_F16>(c, w, T, y, ldy, bias);
            break;
        case T_BF16:
            launch_matmul_t<T_BF16>(c, w, T, y, ldy, bias);
            break;
        case T_Q8_0:
            launch_matmul_t<T_Q8_0>(c, w, T, y, ldy, bias);
            break;
        case T_Q4_0:
            launch_matmul_t<T_Q4_0>(c, w, T, y, ldy, bias);
            break;
        case T_Q6_K:
            launch_matmul_t<T_Q6_K>(c, w, T, y, ldy, bias);
            break;
        case T_Q4_K:
            launch_matmul_t<T_Q4_K>(c, w, T, y, ldy, bias);
            break;
        case T_Q5_K:
            launch_matmul_t<T_Q5_K>(c, w, T, y, ldy, bias);
            break;
    }
}

void invalidate_act(Context &c) {
    c.act.kind = -1;
    c.act.f32 = nullptr;
}

void check_shape(const HostTensor &t, int64_t ne0, int64_t ne1, const char *what) {
    if (!t.data) throw CudaError{std::string("missing tensor ") + what};
    if (t.ne0 != ne0 || t.ne1 != ne1) throw CudaError{std::string("tensor ") + what + " has an unexpected shape"};
    if (t.type == T_Q8_0 || t.type == T_Q4_0) {
        if (ne0 % 32) throw CudaError{std::string("tensor ") + what + ": row length not a multiple of 32"};
    } else if (t.type == T_Q6_K || t.type == T_Q4_K || t.type == T_Q5_K) {
        if (ne0 % 256) throw CudaError{std::string("tensor ") + what + ": row length not a multiple of 256"};
    } else if (ne0 % 32) {
        throw CudaError{std::string("tensor ") + what +
                        ": the CUDA backend needs row lengths that are multiples of 32"};
    }
}

} // namespace

bool device_available(int32_t device, std::string *why) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        if (why) *why = std::string("no CUDA device: ") + cudaGetErrorString(e);
        return false;
    }
    if (device < 0 || device >= n) {
        if (why) *why = "cuda:" + std::to_string(device) + " does not exist (" + std::to_string(n) + " device(s))";
        return false;
    }
    return true;
}

int32_t create(const HostModel &m, const Params &p, Context **out, std::string *err) {
    std::unique_ptr<Context> c(new Context());
    try {
        std::string why;
        if (!device_available(p.device, &why)) {
            *err = why;
            return GLM_ERR_UNSUPPORTED;
        }
        CK(cudaSetDevice(p.device));
        CK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
        c->hm = m;
        c->p = p;
        if (const char *g = std::getenv("GLM_CUDA_GRAPHS")) c->use_graphs = strcmp(g, "0") != 0;
        c->n_q = m.n_head * m.head_dim;
        c->n_kv = m.n_head_kv * m.head_dim;
        if (m.head_dim > 4 * ATT_TILE) throw CudaError{"head_dim above 512 is not supported by the CUDA backend"};
        if (m.n_rot % 2 || m.n_rot > m.head_dim) throw CudaError{"invalid rope dimension count"};

        check_shape(m.tok_embd, m.n_embd, m.n_vocab, "token_embd.weight");
        c->tok_embd = upload_weight(*c, m.tok_embd);
        c->output_norm = upload_f32(*c, m.output_norm);
        if (m.output.data) {
            check_shape(m.output, m.n_embd, m.n_vocab, "output.weight");
            c->output = upload_weight(*c, m.output);
        } else {
            c->output = c->tok_embd;
        }
        for (int il = 0; il < m.n_layer; il++) {
            const HostLayer &L = m.layers[il];
            DevLayer d;
            d.attn_norm = upload_f32(*c, L.attn_norm);
            d.ffn_norm = upload_f32(*c, L.ffn_norm);
            d.post_attn_norm = upload_f32(*c, L.post_attn_norm);
            d.post_ffw_norm = upload_f32(*c, L.post_ffw_norm);
            d.fused = L.attn_qkv.data != nullptr;
            if (d.fused) {
                check_shape(L.attn_qkv, m.n_embd, c->n_q + 2 * c->n_kv, "attn_qkv.weight");
                d.wqkv = upload_weight(*c, L.attn_qkv);
                d.bqkv = upload_f32(*c, L.attn_qkv_b);
            } else {
                check_shape(L.attn_q, m.n_embd, c->n_q, "attn_q.weight");
                check_shape(L.attn_k, m.n_embd, c->n_kv, "attn_k.weight");
                check_shape(L.attn_v, m.n_embd, c->n_kv, "attn_v.weight");
                d.wq = upload_weight(*c, L.attn_q);
                d.wk = upload_weight(*c, L.attn_k);
                d.wv = upload_weight(*c, L.attn_v);
                d.bq = upload_f32(*c, L.attn_q_b);
                d.bk = upload_f32(*c, L.attn_k_b);
                d.bv = upload_f32(*c, L.attn_v_b);
            }
            check_shape(L.attn_out, c->n_q, m.n_embd, "attn_output.weight");
            check_shape(L.ffn_up, m.n_embd, 2 * (int64_t)m.n_ff, "ffn_up.weight");
            check_shape(L.ffn_down, m.n_ff, m.n_embd, "ffn_down.weight");
            d.wo = upload_weight(*c, L.attn_out);
            d.up = upload_weight(*c, L.ffn_up);
            d.down = upload_weight(*c, L.ffn_down);
            c->layers.push_back(d);
        }

        const int64_t slots = (int64_t)p.n_kv_blocks * p.kv_block_size;
        const size_t kv_elem = p.kv_type == GLM_KV_F32 ? 4 : 2;
        for (int il = 0; il < m.n_layer; il++) {
            c->k_cache.push_back(c->alloc(slots * c->n_kv * kv_elem));
            c->v_cache.push_back(c->alloc(slots * c->n_kv * kv_elem));
        }

        const int64_t T = p.max_batch_tokens;
        const int64_t kmax = std::max<int64_t>({m.n_embd, c->n_q, m.n_ff});
        c->x = (float *)c->alloc(sizeof(float) * T * m.n_embd);
        c->h = (float *)c->alloc(sizeof(float) * T * m.n_embd);
        c->tmp = (float *)c->alloc(sizeof(float) * T * m.n_embd);
        c->qkv = (float *)c->alloc(sizeof(float) * T * (c->n_q + 2 * c->n_kv));
        c->attn = (float *)c->alloc(sizeof(float) * T * c->n_q);
        c->ffn = (float *)c->alloc(sizeof(float) * T * 2 * m.n_ff);
        c->mid = (float *)c->alloc(sizeof(float) * T * m.n_ff);
        c->logits = (float *)c->alloc(sizeof(float) * T * m.n_vocab);
        c->act.f16 = (__half *)c->alloc(2 * T * kmax);
        c->act.bf16 = (__nv_bfloat16 *)c->alloc(2 * T * kmax);
        c->act.q8 = (int8_t *)c->alloc(T * kmax);
        c->act.d = (float *)c->alloc(sizeof(float) * T * (kmax / 32 + 1));
        CK(cudaStreamSynchronize(c->stream));
    } catch (const CudaError &e) {
        *err = e.msg;
        return GLM_ERR_INTERNAL;
    } catch (const std::bad_alloc &) {
        *err = "out of host memory while preparing CUDA weights";
        return GLM_ERR_OUT_OF_MEMORY;
    }
    *out = c.release();
    return GLM_OK;
}

int32_t forward(Context *cp, const glm_batch *b, float *logits, std::string *err) {
    Context &c = *cp;
    const HostModel &m = c.hm;
    try {
        CK(cudaSetDevice(c.p.device));
        const int T = b->n_tokens;
        if (T == 0) return GLM_OK;
        const int S = b->n_seqs;
        const int nbt = b->block_table_offsets[S];
        const int R = b->n_logits;
        // ids, seq, pos, slots (T each), offsets (S+1), logit rows (R), then the block tables (nbt):
        // every offset but the tables' length is a function of the graph key (T, S, R).
        const int64_t o_seq = T, o_pos = 2 * (int64_t)T, o_slot = 3 * (int64_t)T, o_off = 4 * (int64_t)T;
        const int64_t o_rows = o_off + S + 1, o_bt = o_rows + R;
        const int64_t need = o_bt + nbt;
        if (need > c.in_cap) {
            // Moving the inputs invalidates the captured graphs (they hold the old pointers). The old
            // device buffer stays allocated until the context ends (a few doublings in its life).
            if (c.h_in) cudaFreeHost(c.h_in);
            c.h_in = nullptr;
            c.drop_graphs();
            const int64_t cap = std::max<int64_t>(need, 4096) * 2;
            CK(cudaMallocHost(&c.h_in, sizeof(int32_t) * cap));
            c.d_in = (int32_t *)c.alloc(sizeof(int32_t) * cap);
            c.in_cap = cap;
        }
        int32_t *h = c.h_in;
        memcpy(h, b->token_ids, 4 * T);
        memcpy(h + o_seq, b->seq_idx, 4 * T);
        memcpy(h + o_pos, b->positions, 4 * T);
        memcpy(h + o_slot, b->slot_mapping, 4 * T);
        memcpy(h + o_off, b->block_table_offsets, 4 * (S + 1));
        memcpy(h + o_rows, b->logit_rows, 4 * (int64_t)R);
        memcpy(h + o_bt, b->block_tables, 4 * (int64_t)nbt);
        CK(cudaMemcpyAsync(c.d_in, h, sizeof(int32_t) * need, cudaMemcpyHostToDevice, c.stream));
        const int32_t *d_ids = c.d_in;
        const int32_t *d_seq = c.d_in + o_seq;
        const int32_t *d_pos = c.d_in + o_pos;
        const int32_t *d_slot = c.d_in + o_slot;
        const int32_t *d_off = c.d_in + o_off;
        const int32_t *d_bt = c.d_in + o_bt;
        const int32_t *d_rows = c.d_in + o_rows;

        const int64_t E = m.n_embd;
        const int64_t ldqkv = c.n_q + 2 * c.n_kv;
        const float theta_scale = powf(m.rope_freq_base, -2.0f / (float)m.n_rot);
        const float kq_scale = 1.0f / sqrtf((float)m.head_dim);
        const bool f16kv = c.p.kv_type != GLM_KV_F32;

        auto kernels = [&]() {
            invalidate_act(c);
            k_get_rows<<<T, 256, 0, c.stream>>>(c.tok_embd, d_ids, c.x, E);
            for (int il = 0; il < m.n_layer; il++) {
                const DevLayer &L = c.layers[il];
                k_rms_norm<<<T, RMS_THREADS, 0, c.stream>>>(c.x, nullptr, L.attn_norm, c.h, nullptr, E, m.rms_norm_eps);
                invalidate_act(c);
                if (L.fused) {
                    matmul(c, L.wqkv, c.h, T, c.qkv, ldqkv, L.bqkv);
                } else {
                    matmul(c, L.wq, c.h, T, c.qkv, ldqkv, L.bq);
                    matmul(c, L.wk, c.h, T, c.qkv + c.n_q, ldqkv, L.bk);
                    matmul(c, L.wv, c.h, T, c.qkv + c.n_q + c.n_kv, ldqkv, L.bv);
                }
                const size_t att_smem = sizeof(float) * (m.head_dim + 2 * ATT_TILE);
                if (f16kv) {
                    k_rope_store<__half><<<T, 128, 0, c.stream>>>(c.qkv, ldqkv, d_pos, d_slot, m.n_head, m.n_head_kv,
                                                                  m.head_dim, m.n_rot, theta_scale,
                                                                  (__half *)c.k_cache[il], (__half *)c.v_cache[il]);
                    k_attention<__half><<<dim3(T, m.n_head), ATT_TILE, att_smem, c.stream>>>(
                        c.qkv, ldqkv, d_pos, d_seq, d_off, d_bt, c.p.kv_block_size, m.n_head, m.n_head_kv, m.head_dim,
                        kq_scale, (const __half *)c.k_cache[il], (const __half *)c.v_cache[il], c.attn, c.n_q);
                } else {
                    k_rope_store<float><<<T, 128, 0, c.stream>>>(c.qkv, ldqkv, d_pos, d_slot, m.n_head, m.n_head_kv,
                                                                 m.head_dim, m.n_rot, theta_scale,
                                                                 (float *)c.k_cache[il], (float *)c.v_cache[il]);
                    k_attention<float><<<dim3(T, m.n_head), ATT_TILE, att_smem, c.stream>>>(
                        c.qkv, ldqkv, d_pos, d_seq, d_off, d_bt, c.p.kv_block_size, m.n_head, m.n_head_kv, m.head_dim,
                        kq_scale, (const float *)c.k_cache[il], (const float *)c.v_cache[il], c.attn, c.n_q);
                }
                invalidate_act(c);
                if (m.glm4) {
                    matmul(c, L.wo, c.attn, T, c.tmp, E, nullptr);
                    k_rms_norm<<<T, RMS_THREADS, 0, c.stream>>>(c.tmp, nullptr, L.post_attn_norm, nullptr, c.x, E,
                                                                m.rms_norm_eps);
                } else {
                    matmul(c, L.wo, c.attn, T, c.tmp, E, nullptr);
                    k_add<<<blocks_for((int64_t)T * E, 256), 256, 0, c.stream>>>(c.x, c.tmp, (int64_t)T * E);
                }
                k_rms_norm<<<T, RMS_THREADS, 0, c.stream>>>(c.x, nullptr, L.ffn_norm, c.h, nullptr, E, m.rms_norm_eps);
                invalidate_act(c);
                matmul(c, L.up, c.h, T, c.ffn, 2 * (int64_t)m.n_ff, nullptr);
                k_swiglu<<<blocks_for((int64_t)T * m.n_ff, 256), 256, 0, c.stream>>>(c.ffn, m.n_ff, T, c.mid);
                invalidate_act(c);
                matmul(c, L.down, c.mid, T, c.tmp, E, nullptr);
                if (m.glm4) {
                    k_rms_norm<<<T, RMS_THREADS, 0, c.stream>>>(c.tmp, nullptr, L.post_ffw_norm, nullptr, c.x, E,
                                                                m.rms_norm_eps);
                } else {
                    k_add<<<blocks_for((int64_t)T * E, 256), 256, 0, c.stream>>>(c.x, c.tmp, (int64_t)T * E);
                }
            }
            if (R > 0) {
                k_rms_norm<<<R, RMS_THREADS, 0, c.stream>>>(c.x, d_rows, c.output_norm, c.h, nullptr, E,
                                                            m.rms_norm_eps);
                invalidate_act(c);
                matmul(c, c.output, c.h, R, c.logits, m.n_vocab, nullptr);
            }
        };
        // Small decode-shaped steps replay a captured graph; prefill and mixed steps launch
        // directly (their kernels are long enough that launch gaps do not matter).
        if (c.use_graphs && T == S && R == T && T <= 64) {
            const std::array<int32_t, 3> key{T, S, R};
            auto it = c.graphs.find(key);
            if (it == c.graphs.end()) {
                if (c.graphs.size() >= 64) c.drop_graphs();
                CK(cudaStreamBeginCapture(c.stream, cudaStreamCaptureModeThreadLocal));
                kernels();
                cudaGraph_t g = nullptr;
                CK(cudaStreamEndCapture(c.stream, &g));
                cudaGraphExec_t ge = nullptr;
                const cudaError_t ie = cudaGraphInstantiate(&ge, g, 0);
                cudaGraphDestroy(g);
                CK(ie);
                it = c.graphs.emplace(key, ge).first;
            }
            CK(cudaGraphLaunch(it->second, c.stream));
        } else {
            kernels();
        }
        if (R > 0) {
            CK(cudaMemcpyAsync(logits, c.logits, sizeof(float) * (int64_t)R * m.n_vocab, cudaMemcpyDeviceToHost,
                               c.stream));
        }
        CK(cudaGetLastError());
        CK(cudaStreamSynchronize(c.stream));
    } catch (const CudaError &e) {
        *err = e.msg;
        return GLM_ERR_INTERNAL;
    }
    return GLM_OK;
}

void destroy(Context *ctx) { delete ctx; }

int64_t device_bytes(const Context *ctx) { return ctx ? ctx->bytes : 0; }

} // namespace glm_cuda
