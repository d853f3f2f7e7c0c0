// CPU kernel table. One KernelSet per instruction-set path (scalar reference, AVX2, AVX-512); the engine
// picks one at run time from CPUID, overridable with GLM_CPU_PATH=scalar|avx2|avx512.
//
// Batch invariance contract: a kernel computes every output element y[r][o] = dot(W[o], x[r]) with
// one fixed sequence of operations that depends only on K, never on how many rows or which tile
// the element belongs to. So a matrix-matrix call and a matrix-vector call give bit-identical
// results, whatever the thread split over output rows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace glm {

// Activation formats: the "vec_dot type" a weight type multiplies with (as llama.cpp's CPU backend).
enum ActType : int32_t {
    ACT_F32 = 0,
    ACT_F16 = 1,
    ACT_BF16 = 2,
    ACT_Q8_0 = 3,
    ACT_Q8_K = 4,
    ACT_Q8_0S = 5,
    ACT_COUNT = 6
};

// Weight kinds with a kernel. Adding Q4_K/Q5_K means a new entry here plus one function per path.
enum WeightKind : int32_t { W_F32 = 0, W_F16, W_BF16, W_Q8_0, W_Q4_0, W_Q6_K, W_Q4_K, W_Q5_K, W_COUNT };

int32_t weight_kind(int32_t ggml_type); // -1 when no kernel exists
ActType act_type_of(int32_t weight_kind);
// Bytes of one activation row of K elements in `act` format (64-byte multiple).
size_t act_row_bytes(ActType act, int64_t K);

// Activation row layouts:
//  ACT_F32  K floats;  ACT_F16/ACT_BF16  K uint16
//  ACT_Q8_0 K/32 float scales (each exactly an fp16 value), then K int8
//  ACT_Q8_K K/256 float scales, then K int8, then K/16 int16 group sums
//  ACT_Q8_0S as ACT_Q8_0, then K/32 int32 block sums (for unsigned-weight integer dot products)
void quantize_act(ActType act, const float *x, uint8_t *out, int64_t K);
// The Q8_K block preamble every quantiser shares: the signed value of largest magnitude in the 256
// values at xb (the first one on ties). 0 means an all-zero block, whose scale, quants and group
// sums it has already written.
float q8k_block_max(const float *xb, float *d, int8_t *qb, int16_t *bs);

struct MatmulArgs {
    const uint8_t *w; // weight rows
    size_t w_stride;  // bytes per weight row
    int64_t K;        // inner dimension
    const uint8_t *x; // activation rows in act_type_of(kind) format
    size_t x_stride;  // bytes per activation row
    int64_t nx;       // activation rows
    float *y;         // y[r * y_stride + o]
    size_t y_stride;
    int64_t n_out = 0; // output rows of the weight (panel kernels mask the last panel's tail)
};
// Computes outputs o in [o0, o1) for all nx rows.
using MatmulFn = void (*)(const MatmulArgs &a, int64_t o0, int64_t o1);

// Panel layout (optional per path and kind): weights repacked once, when a CPU context first uses
// the model, into panels of kPanelRows output rows whose blocks interleave the rows, so one SIMD
// register holds a slice of every row of the panel and an output element lives in one lane.
// pack_bytes(kind, out, K) is 0 when the path has no panel kernel for the kind. pack() writes
// panels [p0, p1). A panel kernel is called with a.w = panel 0, a.w_stride = bytes per panel,
// o0 a multiple of kPanelRows and o1 a multiple of it or a.n_out; its activations are in
// packed_act[kind] format.
constexpr int64_t kPanelRows = 16;

// One query head of one token: softmax(q.k * scale) . v over positions 0..npos-1 of its sequence,
// K and V read through the block table. f16 KV: q is rounded to f16 for the dots and each softmax
// weight is rounded to f16 before it scales V (as llama.cpp's f16 path does).
struct AttnArgs {
    const float *q;       // head_dim floats
    const uint8_t *k, *v; // this layer's K / V pools, at this head's offset within a slot
    size_t slot_bytes;    // bytes per slot (all KV heads)
    const int32_t *table; // block table of the sequence
    int64_t block_size, npos, head_dim;
    float scale;
    bool f16;
    float *out;     // head_dim floats (overwritten)
    float *scratch; // npos floats
    uint16_t *q16;  // head_dim halves of scratch
};

struct KernelSet;
void attend_generic(const KernelSet &k, const AttnArgs &a);
// out[i] = silu(g[i]) * u[i], silu(x) = x / (1 + exp(-x)).
void silu_mul_generic(float *out, const float *g, const float *u, int64_t n);
// y = x / sqrt(mean(x^2) + eps) (* w when w is given); y may alias x. Squares summed in double.
void rmsnorm_generic(const float *x, const float *w, float *y, int64_t n, float eps);
void to_f16_generic(const float *x, uint16_t *y, int64_t n);

struct KernelSet {
    const char *name;
    MatmulFn matmul[W_COUNT];
    size_t (*pack_bytes)(int32_t kind, int64_t out, int64_t K);
    void (*pack)(int32_t kind, const uint8_t *w, size_t w_stride, int64_t out, int64_t K, uint8_t *dst, int64_t p0,
                 int64_t p1);
    MatmulFn packed_matmul[W_COUNT];
    ActType packed_act[W_COUNT];
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    float (*dot_f16)(const uint16_t *a, const uint16_t *b, int64_t n);
    // out[i] = out[i] + w * v[i] (a multiply then an add, element by element).
    void (*axpy_f32)(float *out, float w, const float *v, int64_t n);
    void (*axpy_f16)(float *out, float w, const uint16_t *v, int64_t n);
    // quantize_act, possibly vectorised; the bytes written are identical to quantize_act's.
    void (*quantize)(ActType act, const float *x, uint8_t *out, int64_t K);
    void (*attend)(const KernelSet &k, const AttnArgs &a);
    void (*silu_mul)(float *out, const float *g, const float *u, int64_t n);
    void (*rmsnorm)(const float *x, const float *w, float *y, int64_t n, float eps);
    // Round to nearest even halves (the bits of fp32_to_fp16).
    void (*to_f16)(const float *x, uint16_t *y, int64_t n);
};

// K-quant helpers shared by every path (llama.cpp's block layouts, ggml-common.h):
// Q4_K = f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins, 128 bytes of nibbles;
// Q5_K adds 32 bytes of high bits before the nibbles. value = d*sc*q - dmin*m per 32-value sub-block.
void k_scale_min(int j, const uint8_t *scales, int *sc, int *m);
// Unsigned quants of a Q4_K (0..15) or Q5_K (0..31) super-block in element order.
void k_unpack(const uint8_t *blk, bool q5, uint8_t q[256]);
// Scalar K-quant kernels (also used by the AVX2 path).
void mm_q4_k_scalar(const MatmulArgs &a, int64_t o0, int64_t o1);
void mm_q5_k_scalar(const MatmulArgs &a, int64_t o0, int64_t o1);

const KernelSet &kernels_scalar();
const KernelSet *kernels_avx2();   // nullptr when not compiled in
const KernelSet *kernels_avx512(); // nullptr when not compiled in
bool cpu_has_avx2();
bool cpu_has_avx512();
// The path chosen for this process (CPUID, then GLM_CPU_PATH). Never null.
const KernelSet &active_kernels();
// Kernel path by name ("scalar", "avx2", "avx512"), or nullptr when unavailable here.
const KernelSet *kernels_by_name(const char *name);

} // namespace glm
