// Internal helpers shared by the engine sources: status/error reporting, half-precision
// conversion; the ggml type table (ggml_types.h). Nothing here is exported.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "ggml_types.h"
#include "glm.h"

namespace glm {

// Thread-local last error (glm_last_error). set_error returns the status for `return set_error(..)`.
int32_t set_error(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void clear_error();
const char *last_error();

// An engine failure carried as a C++ exception inside the library; converted at the API boundary.
struct Error {
    int32_t status;
    std::string message;
};
[[noreturn]] void fail(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- half precision (exact, portable; SIMD paths use F16C where available) ----
static inline float fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: renormalise
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            mant &= 0x3ff;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Round to nearest even, like F16C's _cvtss_sh(x, 0) / ggml's GGML_FP32_TO_FP16.
static inline uint16_t fp32_to_fp16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) { // inf or nan
        return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
    }
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); // rounds to inf
    if (absx < 0x38800000u) {                                  // result subnormal or zero
        if (absx < 0x33000000u) return (uint16_t)sign;         // < half of min subnormal
        uint32_t mant = (absx & 0x7fffff) | 0x800000;
        int shift = 126 - (int)(absx >> 23); // result unit is 2^-24; shift is 14..24
        uint32_t res = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (res & 1))) res++;
        return (uint16_t)(sign | res);
    }
    uint32_t res = ((absx >> 13) - (112u << 10));
    uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (res & 1))) res++;
    return (uint16_t)(sign | res);
}

static inline float bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// ggml's GGML_FP32_TO_BF16: round to nearest even, NaN kept quiet.
static inline uint16_t fp32_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

} // namespace glm
