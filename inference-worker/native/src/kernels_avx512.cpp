// AVX-512 + VNNI kernels over the panel layout (kernels.h). Compiled with AVX-512 flags only in
// this file; chosen only when CPUID reports avx512f/bw/vl/vnni.
//
// Layout: a panel is kPanelRows = 16 output rows. Within a block of 32 inputs (Q4_0, Q8_0) or a
// 16-input group of a 256-input super-block (Q6_K), vector v holds, in 32-bit lane o, four
// consecutive inputs' quants of row o as unsigned bytes. One VPDPBUSD against four activation
// bytes broadcast to every lane then advances all 16 rows' integer dot products at once; the
// unsigned offset (8 for Q4_0, 128 for Q8_0, 32 for Q6_K) is taken back exactly through the
// activation block sums. An output element is therefore computed in one lane by one fixed
// sequence: per block, the exact integer dot, converted to float, times (weight scale * activation
// scale), added with one FMA, blocks in order. Tiles of 1..8 activation rows only share loads, so
// matrix-matrix and matrix-vector results are bit-identical, whatever the thread split.
//
// Float weights (F32/F16/BF16) have no panel kernel and use the AVX2 kernels.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"
#include "kernels.h"
#include "panels.h"

namespace glm {
namespace {

constexpr int P = (int)kPanelRows;
constexpr int64_t kPrefetch1 = 64; // single-row tiles stream faster; measured 64 > 32 > 16
constexpr int64_t kPrefetch = 16;  // blocks ahead (measured: 16 beats 4, 8 and 32 when panels stream from DRAM)
using namespace panel;

// ------------------------------------------------------------------------------------ kernels
// acc += dpbusd(w, four activation bytes at p broadcast to every lane). Written as asm so the
// broadcast is the instruction's own {1to16} memory operand (GCC 12 emits a separate
// VPBROADCASTD for the intrinsic): one uop instead of two in the innermost loop.
inline __m512i dpbusd_b(__m512i acc, __m512i w, const int8_t *p) {
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*reinterpret_cast<const int32_t *>(p)));
    return acc;
}

inline void store_out(const MatmulArgs &a, int64_t r, int64_t o, __m512 v) {
    float *y = a.y + (size_t)r * a.y_stride + o;
    const int64_t left = a.n_out - o;
    if (left >= P)
        _mm512_storeu_ps(y, v);
    else
        _mm512_mask_storeu_ps(y, (__mmask16)((1u << left) - 1), v);
}

// Q4_0 and Q8_0 panels against Q8_0S activations. SHIFT: log2 of the unsigned offset.
template <bool Q4, int NR>
inline void tile_q(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    constexpr size_t BB = Q4 ? kQ4Block : kQ8Block;
    constexpr int SHIFT = Q4 ? 3 : 7;
    const int64_t nb = a.K / 32;
    ActRow x[NR];
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) x[j] = act_q8_0s(a, r + j);
    __m512 acc[NR];
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) acc[j] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = panel + (size_t)b * BB;
        {
            // The block kPrefetch blocks ahead (only the first row tile of a panel reads from DRAM;
            // the others find the panel in L1/L2). A single-row tile touches only its first line:
            // that keeps a request open on every page ahead (the hardware streamers stop at page
            // ends) and they fetch the rest, while a prefetch per line cost a quarter (Q4_0) to a
            // third (Q8_0) of the kernel's instruction throughput (glm-kernel-speed "hot").
            const char *pf = reinterpret_cast<const char *>(blk + (NR == 1 ? kPrefetch1 : kPrefetch) * BB);
            if (NR == 1) {
                _mm_prefetch(pf, _MM_HINT_T0);
            } else {
#pragma GCC unroll 16
                for (size_t l = 0; l < BB; l += 64) _mm_prefetch(pf + l, _MM_HINT_T0);
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk)));
        __m512i wv[8];
        if (Q4) {
#pragma GCC unroll 16
            for (int v = 0; v < 4; v++) {
                const __m512i pk = _mm512_loadu_si512(blk + 32 + 64 * v);
                wv[v] = _mm512_and_si512(pk, m4);
                wv[v + 4] = _mm512_and_si512(_mm512_srli_epi16(pk, 4), m4);
            }
        } else {
#pragma GCC unroll 16
            for (int g = 0; g < 8; g++) wv[g] = _mm512_loadu_si512(blk + 32 + 64 * g);
        }
#pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            const int8_t *xq = x[j].q + b * 32;
            // Two independent chains (integer, so their sum is exact whatever the order).
            __m512i s0 = _mm512_set1_epi32(-(x[j].s32[b] << SHIFT));
            __m512i s1 = _mm512_setzero_si512();
            s0 = dpbusd_b(s0, wv[0], xq + 0);
            s1 = dpbusd_b(s1, wv[1], xq + 4);
            s0 = dpbusd_b(s0, wv[2], xq + 8);
            s1 = dpbusd_b(s1, wv[3], xq + 12);
            s0 = dpbusd_b(s0, wv[4], xq + 16);
            s1 = dpbusd_b(s1, wv[5], xq + 20);
            s0 = dpbusd_b(s0, wv[6], xq + 24);
            s1 = dpbusd_b(s1, wv[7], xq + 28);
            const __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(x[j].d[b])), f, acc[j]);
        }
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) store_out(a, r + j, o, acc[j]);
}

// Q6_K panels against Q8_K activations: per 16-input group the exact integer dot (biased by 32,
// corrected with the group sum) times the row's 8-bit scale, summed over the super-block as
// integers; then one FMA per super-block.
template <int NR>
inline void tile_q6k(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    const int64_t nb = a.K / 256;
    ActRow x[NR];
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) x[j] = act_q8_k(a, r + j);
    __m512 acc[NR];
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) acc[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = panel + (size_t)b * kQ6Block;
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk)));
        __m512i isum[NR];
#pragma GCC unroll 16
        for (int j = 0; j < NR; j++) isum[j] = _mm512_setzero_si512();
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            const uint8_t *gd = blk + 288 + (size_t)g * 192;
            const char *pf = reinterpret_cast<const char *>(gd + (NR == 1 ? 4 : 2) * kQ6Block);
            if (NR == 1) { // one line per group ahead, as tile_q's single-row tile
                _mm_prefetch(pf, _MM_HINT_T0);
            } else {
#pragma GCC unroll 3
                for (int l = 0; l < 192; l += 64) _mm_prefetch(pf + l, _MM_HINT_T0);
            }
            const __m512i sc =
                _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 32 + 16 * g)));
            // Rebuild the four vectors of q + 32: low nibble | (2-bit high part << 4).
            const __m512i p0 = _mm512_loadu_si512(gd), p1 = _mm512_loadu_si512(gd + 64),
                          h = _mm512_loadu_si512(gd + 128);
            const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
            // ternlog 0xEA: (a & b) | c, with a = nibbles, b = 0x0f, c = high bits already masked.
            const __m512i w0 = _mm512_ternarylogic_epi32(p0, m4, _mm512_and_si512(_mm512_slli_epi16(h, 4), m30), 0xEA);
            const __m512i w1 = _mm512_ternarylogic_epi32(p1, m4, _mm512_and_si512(_mm512_slli_epi16(h, 2), m30), 0xEA);
            const __m512i w2 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(p0, 4), m4, _mm512_and_si512(h, m30), 0xEA);
            const __m512i w3 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(p1, 4), m4,
                                                         _mm512_and_si512(_mm512_srli_epi16(h, 2), m30), 0xEA);
#pragma GCC unroll 16
            for (int j = 0; j < NR; j++) {
                const int8_t *xq = x[j].q + b * 256 + g * 16;
                __m512i t = _mm512_set1_epi32(-32 * (int32_t)x[j].s16[b * 16 + g]);
                t = dpbusd_b(t, w0, xq + 0);
                t = dpbusd_b(t, w1, xq + 4);
                t = dpbusd_b(t, w2, xq + 8);
                t = dpbusd_b(t, w3, xq + 12);
                isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(t, sc));
            }
        }
#pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(x[j].d[b])), _mm512_cvtepi32_ps(isum[j]), acc[j]);
        }
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) store_out(a, r + j, o, acc[j]);
}

// Q4_K / Q5_K panels against Q8_K activations: per 32-value sub-block the exact unsigned dot times
// the row's 6-bit scale, summed as integers over the super-block; the mins term sum_j m_j * xsum_j
// by VPDPWSSD on (m, m) pairs; then two FMAs per super-block (scale, then minus the mins term).
template <bool Q5, int NR>
inline void tile_k(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    constexpr size_t BB = Q5 ? kQ5KBlock : kQ4KBlock;
    const int64_t nb = a.K / 256;
    ActRow x[NR];
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) x[j] = act_q8_k(a, r + j);
    __m512 acc[NR];
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) acc[j] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = panel + (size_t)b * BB;
        __m512i isum[NR];
#pragma GCC unroll 16
        for (int j = 0; j < NR; j++) isum[j] = _mm512_setzero_si512();
        for (int sb = 0; sb < 8; sb++) {
            const uint8_t *sd = blk + kKHead + (size_t)sb * (Q5 ? 320 : 256);
            const char *pf = reinterpret_cast<const char *>(sd + (NR == 1 ? 8 : 4) * BB);
            if (NR == 1) { // one line per sub-block ahead, as tile_q's single-row tile
                _mm_prefetch(pf, _MM_HINT_T0);
            } else {
#pragma GCC unroll 8
                for (int l = 0; l < (Q5 ? 320 : 256); l += 64) _mm_prefetch(pf + l, _MM_HINT_T0);
            }
            __m512i wv[8];
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) {
                const __m512i pk = _mm512_loadu_si512(sd + 64 * v);
                wv[v] = _mm512_and_si512(pk, m4);
                wv[v + 4] = _mm512_and_si512(_mm512_srli_epi16(pk, 4), m4);
            }
            if (Q5) {
                // Bit kk of each byte is the fifth bit of k-group kk: move it to bit 4 (16-bit
                // shifts by at most 4 never carry a neighbour's bit into bit 4).
                const __m512i h = _mm512_loadu_si512(sd + 256), m10 = _mm512_set1_epi8(0x10);
                wv[0] = _mm512_or_si512(wv[0], _mm512_and_si512(_mm512_slli_epi16(h, 4), m10));
                wv[1] = _mm512_or_si512(wv[1], _mm512_and_si512(_mm512_slli_epi16(h, 3), m10));
                wv[2] = _mm512_or_si512(wv[2], _mm512_and_si512(_mm512_slli_epi16(h, 2), m10));
                wv[3] = _mm512_or_si512(wv[3], _mm512_and_si512(_mm512_slli_epi16(h, 1), m10));
                wv[4] = _mm512_or_si512(wv[4], _mm512_and_si512(h, m10));
                wv[5] = _mm512_or_si512(wv[5], _mm512_and_si512(_mm512_srli_epi16(h, 1), m10));
                wv[6] = _mm512_or_si512(wv[6], _mm512_and_si512(_mm512_srli_epi16(h, 2), m10));
                wv[7] = _mm512_or_si512(wv[7], _mm512_and_si512(_mm512_srli_epi16(h, 3), m10));
            }
            const __m512i sc =
                _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 64 + 16 * sb)));
#pragma GCC unroll 16
            for (int j = 0; j < NR; j++) {
                const int8_t *xq = x[j].q + b * 256 + 32 * sb;
                __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
                s0 = dpbusd_b(s0, wv[0], xq + 0);
                s1 = dpbusd_b(s1, wv[1], xq + 4);
                s0 = dpbusd_b(s0, wv[2], xq + 8);
                s1 = dpbusd_b(s1, wv[3], xq + 12);
                s0 = dpbusd_b(s0, wv[4], xq + 16);
                s1 = dpbusd_b(s1, wv[5], xq + 20);
                s0 = dpbusd_b(s0, wv[6], xq + 24);
                s1 = dpbusd_b(s1, wv[7], xq + 28);
                isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(_mm512_add_epi32(s0, s1), sc));
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk)));
        const __m512 dmw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk + 32)));
        auto mins = [&](int jp) {
            return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk + 192 + 32 * jp)));
        };
        const __m512i mp0 = mins(0), mp1 = mins(1), mp2 = mins(2), mp3 = mins(3);
#pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            const int16_t *bs = x[j].s16 + b * 16;
            auto pair = [&](int jp) {
                const int32_t lo = (int32_t)bs[4 * jp] + bs[4 * jp + 1], hi = (int32_t)bs[4 * jp + 2] + bs[4 * jp + 3];
                return _mm512_set1_epi32((int32_t)(((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16)));
            };
            __m512i ms = _mm512_dpwssd_epi32(_mm512_setzero_si512(), mp0, pair(0));
            ms = _mm512_dpwssd_epi32(ms, mp1, pair(1));
            ms = _mm512_dpwssd_epi32(ms, mp2, pair(2));
            ms = _mm512_dpwssd_epi32(ms, mp3, pair(3));
            const __m512 dx = _mm512_set1_ps(x[j].d[b]);
            acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dx), _mm512_cvtepi32_ps(isum[j]), acc[j]);
            acc[j] = _mm512_fnmadd_ps(_mm512_mul_ps(dmw, dx), _mm512_cvtepi32_ps(ms), acc[j]);
        }
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) store_out(a, r + j, o, acc[j]);
}

template <bool Q5>
inline void tile_k16(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    tile_k<Q5, 8>(a, panel, o, r);
    tile_k<Q5, 8>(a, panel, o, r + 8);
}

// 16 rows as two tiles of 8 (sixteen integer and sixteen float accumulators would not fit).
inline void tile_q6k_16(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    tile_q6k<8>(a, panel, o, r);
    tile_q6k<8>(a, panel, o, r + 8);
}

// Panels outer (a panel stays in L1/L2 while every activation row passes), row tiles inner.
template <void (*T16)(const MatmulArgs &, const uint8_t *, int64_t, int64_t),
          void (*T8)(const MatmulArgs &, const uint8_t *, int64_t, int64_t),
          void (*T4)(const MatmulArgs &, const uint8_t *, int64_t, int64_t),
          void (*T2)(const MatmulArgs &, const uint8_t *, int64_t, int64_t),
          void (*T1)(const MatmulArgs &, const uint8_t *, int64_t, int64_t)>
void drive(const MatmulArgs &a, int64_t o0, int64_t o1) {
    // Activation rows in blocks of 128 (their quants stay in L2 while the panels pass); the row
    // tiles of a block are the same as without blocking, so no value changes.
    for (int64_t r0 = 0; r0 < a.nx; r0 += 128) {
        const int64_t r1 = std::min<int64_t>(a.nx, r0 + 128);
        for (int64_t o = o0; o < o1; o += P) {
            const uint8_t *panel = a.w + (size_t)(o / P) * a.w_stride;
            int64_t r = r0;
            for (; r + 16 <= r1; r += 16) T16(a, panel, o, r);
            for (; r + 8 <= r1; r += 8) T8(a, panel, o, r);
            for (; r + 4 <= r1; r += 4) T4(a, panel, o, r);
            for (; r + 2 <= r1; r += 2) T2(a, panel, o, r);
            for (; r < r1; r++) T1(a, panel, o, r);
        }
    }
}

void pm_q4_0(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive<tile_q<true, 16>, tile_q<true, 8>, tile_q<true, 4>, tile_q<true, 2>, tile_q<true, 1>>(a, o0, o1);
}
void pm_q8_0(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive<tile_q<false, 16>, tile_q<false, 8>, tile_q<false, 4>, tile_q<false, 2>, tile_q<false, 1>>(a, o0, o1);
}
void pm_q4_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive<tile_k16<false>, tile_k<false, 8>, tile_k<false, 4>, tile_k<false, 2>, tile_k<false, 1>>(a, o0, o1);
}
void pm_q5_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive<tile_k16<true>, tile_k<true, 8>, tile_k<true, 4>, tile_k<true, 2>, tile_k<true, 1>>(a, o0, o1);
}
void pm_q6_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive<tile_q6k_16, tile_q6k<8>, tile_q6k<4>, tile_q6k<2>, tile_q6k<1>>(a, o0, o1);
}

// ------------------------------------------------------------------------------------ activations
// Same bytes as quantize_act: d = fp16(amax / 127), q = round-half-even(x * (127 / amax)).
void quantize_q8_0(const float *x, uint8_t *out, int64_t K, bool sums) {
    const int64_t nb = K / 32;
    float *d = reinterpret_cast<float *>(out);
    int8_t *q = reinterpret_cast<int8_t *>(out + nb * 4);
    int32_t *s = reinterpret_cast<int32_t *>(out + nb * 4 + K);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int64_t b = 0; b < nb; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + b * 32), v1 = _mm512_loadu_ps(x + b * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = _cvtsh_ss(_cvtss_sh(amax / 127.0f, 0));
        const __m512 idv = _mm512_set1_ps(id);
        const __m512i i0 = _mm512_cvtps_epi32(
            _mm512_roundscale_ps(_mm512_mul_ps(v0, idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m512i i1 = _mm512_cvtps_epi32(
            _mm512_roundscale_ps(_mm512_mul_ps(v1, idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(q + b * 32), _mm512_cvtepi32_epi8(i0));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(q + b * 32 + 16), _mm512_cvtepi32_epi8(i1));
        if (sums) s[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
    }
}

// Same bytes as quantize_act's Q8_K (llama.cpp's quantize_row_q8_K_ref).
void quantize_q8_k(const float *x, uint8_t *out, int64_t K) {
    const int64_t nb = K / 256;
    float *d = reinterpret_cast<float *>(out);
    int8_t *q = reinterpret_cast<int8_t *>(out + nb * 4);
    int16_t *bs = reinterpret_cast<int16_t *>(out + nb * 4 + K);
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * 256;
        int8_t *qb = q + b * 256;
        const float mx = q8k_block_max(xb, &d[b], qb, bs + b * 16);
        if (mx == 0.0f) continue;
        const float iscale = -127.0f / mx;
        const __m512 is = _mm512_set1_ps(iscale);
        const __m512i hi = _mm512_set1_epi32(127);
        for (int g = 0; g < 16; g++) {
            const __m512 v = _mm512_mul_ps(is, _mm512_loadu_ps(xb + 16 * g));
            const __m512i iv = _mm512_min_epi32(
                _mm512_cvtps_epi32(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)), hi);
            _mm_storeu_si128(reinterpret_cast<__m128i *>(qb + 16 * g), _mm512_cvtepi32_epi8(iv));
            bs[b * 16 + g] = (int16_t)_mm512_reduce_add_epi32(iv);
        }
        d[b] = 1.0f / iscale;
    }
}

void quantize(ActType act, const float *x, uint8_t *out, int64_t K) {
    switch (act) {
        case ACT_Q8_0:
            quantize_q8_0(x, out, K, false);
            return;
        case ACT_Q8_0S:
            quantize_q8_0(x, out, K, true);
            return;
        case ACT_Q8_K:
            quantize_q8_k(x, out, K);
            return;
        default:
            quantize_act(act, x, out, K);
    }
}

// ------------------------------------------------------------------------------------ attention, SiLU
// exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in two parts, exp(r) by a degree-7
// polynomial (Horner, FMA): within 2 ulp of expf on the range that matters (x <= 88.7).
inline __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(88.7f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

void silu_mul(float *out, const float *g, const float *u, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f), neg = _mm512_set1_ps(-0.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 gv = _mm512_maskz_loadu_ps(m, g + i), uv = _mm512_maskz_loadu_ps(m, u + i);
        const __m512 e = exp512(_mm512_xor_ps(gv, neg));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), uv));
    }
}

// Squares (rounded to float, as the generic loop does) summed in double, 2 x 8 lanes.
void rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps) {
    if (n % 16 != 0) return rmsnorm_generic(x, w, y, n, eps);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __m512 sq = _mm512_mul_ps(v, v);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sq), 1))));
    }
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const float mean = (float)(sum / (double)n);
    const __m512 scale = _mm512_set1_ps(1.0f / std::sqrt(mean + eps));
    for (int64_t i = 0; i < n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), scale);
        if (w) v = _mm512_mul_ps(v, _mm512_loadu_ps(w + i));
        _mm512_storeu_ps(y + i, v);
    }
}

void to_f16(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm256_mask_storeu_epi16(
            y + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
}

inline __m512 load16(const uint8_t *p, bool f16) {
    return f16 ? _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)))
               : _mm512_loadu_ps(reinterpret_cast<const float *>(p));
}

// Positions are walked block by block (no division per position); q and the output stay in
// registers. Element order is fixed per (token, head), so batching never changes a value.
template <bool F16>
void attend_t(const AttnArgs &a) {
    constexpr size_t E = F16 ? 2 : 4;
    const int64_t nv = a.head_dim / 16, bs = a.block_size;
    __m512 qv[16];
    for (int64_t v = 0; v < nv; v++) {
        __m512 x = _mm512_loadu_ps(a.q + 16 * v);
        if (F16) x = _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        qv[v] = x;
    }
    float *sc = a.scratch;
    __m512 mxv = _mm512_set1_ps(-INFINITY);
    for (int64_t p0 = 0; p0 < a.npos; p0 += bs) {
        const uint8_t *kb = a.k + (size_t)a.table[p0 / bs] * bs * a.slot_bytes;
        const int64_t m = std::min(bs, a.npos - p0);
        for (int64_t i = 0; i < m; i++) {
            const uint8_t *kp = kb + (size_t)i * a.slot_bytes;
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
            for (int64_t v = 0; v + 1 < nv; v += 2) {
                s0 = _mm512_fmadd_ps(load16(kp + 16 * E * v, F16), qv[v], s0);
                s1 = _mm512_fmadd_ps(load16(kp + 16 * E * (v + 1), F16), qv[v + 1], s1);
            }
            if (nv & 1) s0 = _mm512_fmadd_ps(load16(kp + 16 * E * (nv - 1), F16), qv[nv - 1], s0);
            const float d = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) * a.scale;
            sc[p0 + i] = d;
        }
    }
    for (int64_t p = 0; p < a.npos; p += 16) {
        const __mmask16 m = a.npos - p >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (a.npos - p)) - 1);
        mxv = _mm512_mask_max_ps(mxv, m, mxv, _mm512_maskz_loadu_ps(m, sc + p));
    }
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(mxv));
    __m512 sumv = _mm512_setzero_ps();
    for (int64_t p = 0; p < a.npos; p += 16) {
        const __mmask16 m = a.npos - p >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (a.npos - p)) - 1);
        const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, sc + p), mx));
        _mm512_mask_storeu_ps(sc + p, m, e);
        sumv = _mm512_add_ps(sumv, _mm512_maskz_mov_ps(m, e));
    }
    const float inv = 1.0f / _mm512_reduce_add_ps(sumv);
    // Softmax weights first (rounded to halves for f16 KV), then V summed in two accumulator sets
    // (even and odd positions) so consecutive positions do not wait on each other's FMA.
    for (int64_t p = 0; p < a.npos; p += 16) {
        const __mmask16 m = a.npos - p >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (a.npos - p)) - 1);
        __m512 w = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, sc + p), _mm512_set1_ps(inv));
        if (F16) w = _mm512_cvtph_ps(_mm512_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm512_mask_storeu_ps(sc + p, m, w);
    }
    __m512 ov[16], ow[16];
    for (int64_t v = 0; v < nv; v++) ov[v] = ow[v] = _mm512_setzero_ps();
    for (int64_t p0 = 0; p0 < a.npos; p0 += bs) {
        const uint8_t *vb = a.v + (size_t)a.table[p0 / bs] * bs * a.slot_bytes;
        const int64_t m = std::min(bs, a.npos - p0);
        int64_t i = 0;
        for (; i + 2 <= m; i += 2) {
            const __m512 w0 = _mm512_set1_ps(sc[p0 + i]), w1 = _mm512_set1_ps(sc[p0 + i + 1]);
            const uint8_t *vp = vb + (size_t)i * a.slot_bytes;
            for (int64_t v = 0; v < nv; v++) {
                ov[v] = _mm512_fmadd_ps(w0, load16(vp + 16 * E * v, F16), ov[v]);
                ow[v] = _mm512_fmadd_ps(w1, load16(vp + a.slot_bytes + 16 * E * v, F16), ow[v]);
            }
        }
        if (i < m) {
            const __m512 w0 = _mm512_set1_ps(sc[p0 + i]);
            const uint8_t *vp = vb + (size_t)i * a.slot_bytes;
            for (int64_t v = 0; v < nv; v++) ov[v] = _mm512_fmadd_ps(w0, load16(vp + 16 * E * v, F16), ov[v]);
        }
    }
    for (int64_t v = 0; v < nv; v++) _mm512_storeu_ps(a.out + 16 * v, _mm512_add_ps(ov[v], ow[v]));
}

void attend(const KernelSet &k, const AttnArgs &a) {
    if (a.head_dim % 16 != 0 || a.head_dim > 256) return attend_generic(k, a);
    if (a.f16)
        attend_t<true>(a);
    else
        attend_t<false>(a);
}

KernelSet make_set() {
    const KernelSet *base = kernels_avx2();
    KernelSet k = *base;
    k.name = "avx512";
    k.pack_bytes = panel::pack_bytes;
    k.pack = panel::pack;
    k.quantize = quantize;
    k.attend = attend;
    k.silu_mul = silu_mul;
    k.rmsnorm = rmsnorm;
    k.to_f16 = to_f16;
    for (int i = 0; i < W_COUNT; i++) {
        k.packed_matmul[i] = nullptr;
        k.packed_act[i] = ACT_F32;
    }
    k.packed_matmul[W_Q4_0] = pm_q4_0;
    k.packed_act[W_Q4_0] = ACT_Q8_0S;
    k.packed_matmul[W_Q8_0] = pm_q8_0;
    k.packed_act[W_Q8_0] = ACT_Q8_0S;
    k.packed_matmul[W_Q6_K] = pm_q6_k;
    k.packed_act[W_Q6_K] = ACT_Q8_K;
    k.packed_matmul[W_Q4_K] = pm_q4_k;
    k.packed_act[W_Q4_K] = ACT_Q8_K;
    k.packed_matmul[W_Q5_K] = pm_q5_k;
    k.packed_act[W_Q5_K] = ACT_Q8_K;
    return k;
}

} // namespace

const KernelSet *kernels_avx512() {
    if (!kernels_avx2()) return nullptr;
    static const KernelSet k = make_set();
    return &k;
}

} // namespace glm
