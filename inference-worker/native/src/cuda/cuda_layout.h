// Device layout of the CUDA backend's K-quant weights: the host-side conversion from the file's
// block bytes (done once, at upload) and the per-element / per-unit formulas the kernels apply to
// the converted arrays. Plain C++ with no CUDA include, so that a CPU test (tests/test_cuda_layout.cpp)
// checks the very functions the kernels call against the CPU engine's dequantisation and its
// scalar K-quant matmul. Under nvcc the inline functions are also __device__ and use explicit _rn
// intrinsics (no contraction); elsewhere they are ordinary inline C++ (the project builds with
// -ffp-contract=off).
//
// Block formats (ggml's, as the CPU backend reads them; kernels.h):
//  Q6_K (210 bytes / 256 values): ql[128], qh[64], int8 scales[16], f16 d.
//  Q4_K (144 bytes / 256 values): f16 d, f16 dmin, scales[12] (eight 6-bit scales and mins),
//        qs[128] (64-value chunk c: byte 32c+l holds value 64c+l low, value 64c+32+l high).
//  Q5_K (176 bytes): as Q4_K with qh[32] before qs: bit 2c of qh[l] is bit 4 of value 64c+l,
//        bit 2c+1 is bit 4 of value 64c+32+l.
//
// Device layouts, per row of K inputs (a "unit" is 32 inputs: one Q4_K/Q5_K sub-block, two Q6_K
// scale groups):
//  Q6_K: q int8[K] (the signed quant, -32..31), sc int8[K/16], d float[K/256];
//        value i = (d[i/256] * sc[i/16]) * q[i].
//  Q4_K / Q5_K: q uint8[K/2]: unit u's 16 bytes at 16u, byte j = v(32u+j) | v(32u+16+j) << 4 (low
//        four bits of the unsigned quant v); qh uint32[K/32] (Q5_K only): bit j of qh[u] = bit 4 of
//        v(32u+j); sc, mn uint8[K/32]: the 6-bit scale and min of unit u; d, dmin float[K/256].
//        value i = (d*sc) * v - (dmin*mn), as the CPU dequantises.
//  The matmul forms, per super-block b and Q8_K activation block (da, a[256]), the exact integers
//  isum = sum_u sc[u] * dot(v_u, a_u) and msum = sum_u mn[u] * sum(a_u) over its 8 units, then
//  acc = acc + (d*da)*isum; acc = acc - (dmin*da)*msum, the CPU scalar reference's order.
#pragma once

#include <cstdint>
#include <cstring>

#include "../ggml_types.h" // block bytes, from the one type table
#include "../kernels.h"    // k_unpack, k_scale_min: the file's Q4_K/Q5_K blocks, read as the CPU does

#if defined(__CUDACC__)
#define GLM_HD __host__ __device__ __forceinline__
#else
#define GLM_HD inline
#endif

namespace glm_cuda {
namespace layout {

// ---- arithmetic both sides share -----------------------------------------------------------

GLM_HD float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

GLM_HD float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

GLM_HD float fsub(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

// c + the dot product of the four signed bytes of a and of b (__dp4a).
GLM_HD int dp4(int a, int b, int c) {
#if defined(__CUDA_ARCH__)
    return __dp4a(a, b, c);
#else
    for (int k = 0; k < 4; k++)
        c += (int)(int8_t)(uint8_t)((uint32_t)a >> (8 * k)) * (int)(int8_t)(uint8_t)((uint32_t)b >> (8 * k));
    return c;
#endif
}

// IEEE half to float (exact), host side only.
inline float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    if (e == 0) {
        if (m == 0) {
            bits = sign;
        } else { // subnormal: normalise
            e = 113;
            while (!(m & 0x400u)) {
                m <<= 1;
                e--;
            }
            bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
        }
    } else if (e == 31) {
        bits = sign | 0x7f800000u | (m << 13);
    } else {
        bits = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline uint16_t rd16(const uint8_t *p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

// ---- Q6_K ----------------------------------------------------------------------------------

using glm::kQ6KBytes;

// One row of K inputs (K/256 blocks at src) into q[K], sc[K/16], d[K/256].
inline void q6k_convert_row(const uint8_t *src, int64_t K, int8_t *q, int8_t *sc, float *d) {
    for (int64_t b = 0; b < K / 256; b++) {
        const uint8_t *blk = src + b * kQ6KBytes;
        d[b] = half_to_float(rd16(blk + 208));
        std::memcpy(sc + b * 16, blk + 192, 16);
        int8_t *out = q + b * 256;
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = blk + 64 * n;
            const uint8_t *qh = blk + 128 + 32 * n;
            for (int l = 0; l < 32; l++) {
                out[128 * n + l + 0] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                out[128 * n + l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                out[128 * n + l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                out[128 * n + l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }
}

// Input i of a converted row.
GLM_HD float q6k_value(const int8_t *q, const int8_t *sc, const float *d, int64_t i) {
    return fmul(fmul(d[i / 256], (float)sc[i / 16]), (float)q[i]);
}

// ---- Q4_K / Q5_K ---------------------------------------------------------------------------

using glm::kQ4KBytes;
using glm::kQ5KBytes;

// One row of K inputs (K/256 blocks at src) into q[K/2], qh[K/32] (Q5_K; ignored when !q5),
// sc[K/32], mn[K/32], d[K/256], dmin[K/256].
inline void kq_convert_row(const uint8_t *src, bool q5, int64_t K, uint8_t *q, uint32_t *qh, uint8_t *sc, uint8_t *mn,
                           float *d, float *dmin) {
    const int bb = q5 ? kQ5KBytes : kQ4KBytes;
    for (int64_t b = 0; b < K / 256; b++) {
        const uint8_t *blk = src + b * bb;
        d[b] = half_to_float(rd16(blk));
        dmin[b] = half_to_float(rd16(blk + 2));
        uint8_t v[256]; // the unsigned quants in input order: the CPU engine's unpacking
        glm::k_unpack(blk, q5, v);
        for (int j = 0; j < 8; j++) {
            const int64_t u = b * 8 + j;
            int s, m;
            glm::k_scale_min(j, blk + 4, &s, &m);
            sc[u] = (uint8_t)s;
            mn[u] = (uint8_t)m;
            const uint8_t *vu = v + 32 * j;
            for (int i = 0; i < 16; i++) q[u * 16 + i] = (uint8_t)((vu[i] & 0x0F) | ((vu[i + 16] & 0x0F) << 4));
            if (q5) {
                uint32_t h = 0;
                for (int i = 0; i < 32; i++) h |= (uint32_t)((vu[i] >> 4) & 1) << i;
                qh[u] = h;
            }
        }
    }
}

// Unsigned quant of input i of a converted row (qh == nullptr for Q4_K).
GLM_HD int kq_quant(const uint8_t *q, const uint32_t *qh, int64_t i) {
    const int64_t u = i / 32;
    const int j = (int)(i % 32);
    const uint8_t byte = q[u * 16 + (j & 15)];
    int v = j < 16 ? (byte & 0x0F) : (byte >> 4);
    if (qh) v |= (int)((qh[u] >> j) & 1u) << 4;
    return v;
}

// Input i of a converted row: (d*sc)*v - dmin*mn.
GLM_HD float kq_value(const uint8_t *q, const uint32_t *qh, const uint8_t *sc, const uint8_t *mn, const float *d,
                      const float *dmin, int64_t i) {
    const int64_t u = i / 32, b = i / 256;
    const float d1 = fmul(d[b], (float)sc[u]), m1 = fmul(dmin[b], (float)mn[u]);
    return fsub(fmul(d1, (float)kq_quant(q, qh, i)), m1);
}

// 0x10 in byte k for each set bit k (0..3) of x: bit 4 of four quants, in place for a dp4.
GLM_HD int kq_spread4(uint32_t x) {
    return (int)(((x & 1u) | ((x & 2u) << 7) | ((x & 4u) << 14) | ((x & 8u) << 21)) << 4);
}

// Exact integer dot of one unit: w = its 16 quant bytes as four little-endian ints, hb = its
// fifth bits (0 for Q4_K), a = its 32 int8 activations as eight ints. Byte k of w[v] holds inputs
// 4v+k (low nibble) and 16+4v+k (high nibble).
GLM_HD int kq_unit_dot(const int w[4], uint32_t hb, const int a[8]) {
    const int M = 0x0F0F0F0F;
    int s = 0;
    s = dp4((w[0] & M) | kq_spread4(hb >> 0), a[0], s);
    s = dp4((w[1] & M) | kq_spread4(hb >> 4), a[1], s);
    s = dp4((w[2] & M) | kq_spread4(hb >> 8), a[2], s);
    s = dp4((w[3] & M) | kq_spread4(hb >> 12), a[3], s);
    s = dp4(((w[0] >> 4) & M) | kq_spread4(hb >> 16), a[4], s);
    s = dp4(((w[1] >> 4) & M) | kq_spread4(hb >> 20), a[5], s);
    s = dp4(((w[2] >> 4) & M) | kq_spread4(hb >> 24), a[6], s);
    s = dp4(((w[3] >> 4) & M) | kq_spread4(hb >> 28), a[7], s);
    return s;
}

// Sum of a unit's 32 int8 activations.
GLM_HD int kq_unit_asum(const int a[8]) {
    const int ones = 0x01010101;
    int s = 0;
    s = dp4(ones, a[0], s);
    s = dp4(ones, a[1], s);
    s = dp4(ones, a[2], s);
    s = dp4(ones, a[3], s);
    s = dp4(ones, a[4], s);
    s = dp4(ones, a[5], s);
    s = dp4(ones, a[6], s);
    s = dp4(ones, a[7], s);
    return s;
}

// 16 bytes at p (16-byte aligned on the device: one vector load) as four little-endian ints.
GLM_HD void load16(const void *p, int out[4]) {
#if defined(__CUDA_ARCH__)
    const int4 v = *(const int4 *)p;
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
#else
    std::memcpy(out, p, 16);
#endif
}

// The weight side of unit u of a converted row (qh == nullptr for Q4_K).
struct KqUnit {
    int w[4];
    uint32_t hb;
    int sc, mn;
};

GLM_HD KqUnit kq_load_unit(const uint8_t *q, const uint32_t *qh, const uint8_t *sc, const uint8_t *mn, int64_t u) {
    KqUnit k;
    load16(q + u * 16, k.w);
    k.hb = qh ? qh[u] : 0u;
    k.sc = sc[u];
    k.mn = mn[u];
    return k;
}

// Unit u's exact integer terms against a Q8_K activation row's quants a (K int8):
// *isum = sc * dot(v, a_u), *msum = mn * sum(a_u).
GLM_HD void kq_unit_sums(const KqUnit &k, const int8_t *a, int64_t u, int *isum, int *msum) {
    int av[8];
    load16(a + u * 32, av);
    load16(a + u * 32 + 16, av + 4);
    *isum = k.sc * kq_unit_dot(k.w, k.hb, av);
    *msum = k.mn * kq_unit_asum(av);
}

// One super-block's contribution, in the CPU reference's order.
GLM_HD float kq_accumulate(float acc, float d, float dmin, float da, int isum, int msum) {
    acc = fadd(acc, fmul(fmul(d, da), (float)isum));
    return fsub(acc, fmul(fmul(dmin, da), (float)msum));
}

} // namespace layout
} // namespace glm_cuda
