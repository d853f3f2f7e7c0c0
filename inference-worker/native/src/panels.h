// Panel layouts shared by the SIMD paths (see kernels.h): constants and the portable packer.
// The packer is compiled without ISA flags so every path can use it on any x86-64.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace glm {
namespace panel {

inline constexpr size_t kQ4Block = 32 + 4 * 64; // 16 fp16 scales, 4 vectors of paired nibbles
inline constexpr size_t kQ8Block = 32 + 8 * 64; // 16 fp16 scales, 8 vectors of biased bytes
// Q6_K: 16 fp16 d, 16x16 int8 scales, then per 16-value group two vectors of paired low nibbles
// and one vector of the four 2-bit high parts: 3,360 bytes, exactly the 16 rows' Q6_K size.
inline constexpr size_t kQ6Block = 32 + 256 + 16 * 3 * 64;
// Q4_K / Q5_K: 16 fp16 d, 16 fp16 dmin, 8x16 u8 scales, 4x16 u8 pairs of mins, then per
// 32-value sub-block 4 vectors of paired nibbles, and for Q5_K one vector of the fifth bits.
inline constexpr size_t kKHead = 32 + 32 + 128 + 128;
inline constexpr size_t kQ4KBlock = kKHead + 8 * 4 * 64;
inline constexpr size_t kQ5KBlock = kKHead + 8 * 5 * 64; // + one vector of high bits per sub-block

size_t pack_bytes(int32_t kind, int64_t out, int64_t K);
void pack(int32_t kind, const uint8_t *w, size_t w_stride, int64_t out, int64_t K, uint8_t *dst, int64_t p0,
          int64_t p1);

// One activation row as the panel kernels read it. Internal linkage: each SIMD file compiles its
// own copy with its own ISA flags (a shared inline copy could carry AVX-512 code into the AVX2 path).
namespace {
struct ActRow {
    const float *d;     // block scales
    const int8_t *q;    // quants
    const int32_t *s32; // ACT_Q8_0S block sums
    const int16_t *s16; // ACT_Q8_K group sums of 16
};

inline ActRow act_q8_0s(const MatmulArgs &a, int64_t r) {
    const uint8_t *x = a.x + (size_t)r * a.x_stride;
    const int64_t nb = a.K / 32;
    return {reinterpret_cast<const float *>(x), reinterpret_cast<const int8_t *>(x + nb * 4),
            reinterpret_cast<const int32_t *>(x + nb * 4 + a.K), nullptr};
}

inline ActRow act_q8_k(const MatmulArgs &a, int64_t r) {
    const uint8_t *x = a.x + (size_t)r * a.x_stride;
    const int64_t nb = a.K / 256;
    return {reinterpret_cast<const float *>(x), reinterpret_cast<const int8_t *>(x + nb * 4), nullptr,
            reinterpret_cast<const int16_t *>(x + nb * 4 + a.K)};
}
} // namespace

} // namespace panel
} // namespace glm
