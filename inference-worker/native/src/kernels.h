// CPU kernel table. One KernelSet per instruction-set path (scalar reference, AVX2); the engine
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
enum ActType : int32_t { ACT_F32 = 0, ACT_F16 = 1, ACT_BF16 = 2, ACT_Q8_0 = 3, ACT_Q8_K = 4, ACT_COUNT = 5 };

// Weight kinds with a kernel. Adding Q4_K/Q5_K means a new entry here plus one function per path.
enum WeightKind : int32_t { W_F32 = 0, W_F16, W_BF16, W_Q8_0, W_Q4_0, W_Q6_K, W_COUNT };

int32_t weight_kind(int32_t ggml_type);  // -1 when no kernel exists
ActType act_type_of(int32_t weight_kind);
// Bytes of one activation row of K elements in `act` format (64-byte multiple).
size_t act_row_bytes(ActType act, int64_t K);

// Activation row layouts:
//  ACT_F32  K floats;  ACT_F16/ACT_BF16  K uint16
//  ACT_Q8_0 K/32 float scales (each exactly an fp16 value), then K int8
//  ACT_Q8_K K/256 float scales, then K int8, then K/16 int16 group sums
void quantize_act(ActType act, const float *x, uint8_t *out, int64_t K);

struct MatmulArgs {
    const uint8_t *w;   // weight rows
    size_t w_stride;    // bytes per weight row
    int64_t K;          // inner dimension
    const uint8_t *x;   // activation rows in act_type_of(kind) format
    size_t x_stride;    // bytes per activation row
    int64_t nx;         // activation rows
    float *y;           // y[r * y_stride + o]
    size_t y_stride;
};
// Computes outputs o in [o0, o1) for all nx rows.
using MatmulFn = void (*)(const MatmulArgs &a, int64_t o0, int64_t o1);

struct KernelSet {
    const char *name;
    MatmulFn matmul[W_COUNT];
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    float (*dot_f16)(const uint16_t *a, const uint16_t *b, int64_t n);
};

const KernelSet &kernels_scalar();
const KernelSet *kernels_avx2();    // nullptr when not compiled in
const KernelSet *kernels_avx512();  // nullptr when not compiled in
bool cpu_has_avx2();
bool cpu_has_avx512();
// The path chosen for this process (CPUID, then GLM_CPU_PATH). Never null.
const KernelSet &active_kernels();
// Kernel path by name ("scalar", "avx2", "avx512"), or nullptr when unavailable here.
const KernelSet *kernels_by_name(const char *name);

}  // namespace glm
