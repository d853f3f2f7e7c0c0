// AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c only in this file; called only when
// CPUID reports those features.
//
// Every output element is produced by the same per-block instruction sequence (integer block dot,
// then one FMA of the block scale into an 8-lane f32 accumulator, then one fixed horizontal sum),
// whatever the tile shape: matrix-matrix and matrix-vector results are bit-identical.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "common.h"
#include "kernels.h"
#include "panels.h"

namespace glm {
namespace {

inline float hsum8(__m256 x) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

inline float h2f(const uint8_t *p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return _cvtsh_ss(v);
}

// ---------------------------------------------------------------- float weights (F32/F16/BF16)
struct LoadF32 {
    static __m256 ld(const uint8_t *p, int64_t i) { return _mm256_loadu_ps(reinterpret_cast<const float *>(p) + i); }
};
struct LoadF16 {
    static __m256 ld(const uint8_t *p, int64_t i) {
        return _mm256_cvtph_ps(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(reinterpret_cast<const uint16_t *>(p) + i)));
    }
};
struct LoadBF16 {
    static __m256 ld(const uint8_t *p, int64_t i) {
        __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(reinterpret_cast<const uint16_t *>(p) + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
};

template <class L, int MR, int NR>
inline void tile_float(const MatmulArgs &a, int64_t o, int64_t r) {
    __m256 acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
    const uint8_t *w[MR];
    const uint8_t *x[NR];
    for (int i = 0; i < MR; i++) w[i] = a.w + (size_t)(o + i) * a.w_stride;
    for (int j = 0; j < NR; j++) x[j] = a.x + (size_t)(r + j) * a.x_stride;
    for (int64_t k = 0; k < a.K; k += 8) {
        __m256 xv[NR];
        for (int j = 0; j < NR; j++) xv[j] = L::ld(x[j], k);
        for (int i = 0; i < MR; i++) {
            __m256 wv = L::ld(w[i], k);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm256_fmadd_ps(wv, xv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) a.y[(size_t)(r + j) * a.y_stride + o + i] = hsum8(acc[i][j]);
}

// ---------------------------------------------------------------- Q8_0 / Q4_0 x Q8_0
template <bool Q4>
inline __m256i load_wq(const uint8_t *qs) {
    if (Q4) {
        __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(qs));
        __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
        v = _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
        return _mm256_sub_epi8(v, _mm256_set1_epi8(8));
    }
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qs));
}

template <bool Q4, int MR, int NR>
inline void tile_q8(const MatmulArgs &a, int64_t o, int64_t r) {
    constexpr int BS = Q4 ? kQ4_0Bytes : kQ8_0Bytes;
    const int64_t nb = a.K / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
    const uint8_t *w[MR];
    const float *xd[NR];
    const int8_t *xq[NR];
    for (int i = 0; i < MR; i++) w[i] = a.w + (size_t)(o + i) * a.w_stride;
    for (int j = 0; j < NR; j++) {
        const uint8_t *xr = a.x + (size_t)(r + j) * a.x_stride;
        xd[j] = reinterpret_cast<const float *>(xr);
        xq[j] = reinterpret_cast<const int8_t *>(xr + nb * 4);
    }
    for (int64_t b = 0; b < nb; b++) {
        // Activation quants and scales are loaded once per block and reused by the MR weight rows.
        __m256i xv[NR];
        __m256 xs[NR];
        for (int j = 0; j < NR; j++) {
            xv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq[j] + b * 32));
            xs[j] = _mm256_broadcast_ss(xd[j] + b);
        }
        for (int i = 0; i < MR; i++) {
            const uint8_t *blk = w[i] + b * BS;
            _mm_prefetch(reinterpret_cast<const char *>(blk + 16 * BS), _MM_HINT_T0);
            const __m256 dw = _mm256_set1_ps(h2f(blk));
            const __m256i wv = load_wq<Q4>(blk + 2);
            const __m256i aw = _mm256_sign_epi8(wv, wv);
            for (int j = 0; j < NR; j++) {
                const __m256i p16 = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv[j], wv));
                const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
                // dw * dx in every lane (the same IEEE product as a scalar multiply), then one FMA.
                acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, xs[j]), f, acc[i][j]);
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) a.y[(size_t)(r + j) * a.y_stride + o + i] = hsum8(acc[i][j]);
}

// ---------------------------------------------------------------- Q6_K x Q8_K
struct Q6Unpacked {
    __m256i q[8];  // 256 values (q - 32), 32 per vector
    __m256i sc[8]; // per vector: 8 x scale of its first 16, 8 x scale of its second 16 (int16)
    float d;
};

inline void unpack_q6k(const uint8_t *blk, Q6Unpacked &u) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = blk + h * 64, *qh = blk + 128 + h * 32;
        const __m256i la = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ql));
        const __m256i lb = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ql + 32));
        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qh));
        const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4);
        const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4);
        const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4);
        const __m256i h3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4);
        u.q[h * 4 + 0] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(la, m4), h0), off);
        u.q[h * 4 + 1] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(lb, m4), h1), off);
        u.q[h * 4 + 2] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m4), h2), off);
        u.q[h * 4 + 3] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m4), h3), off);
    }
    const int8_t *sc = reinterpret_cast<const int8_t *>(blk + 192);
    for (int c = 0; c < 8; c++) {
        u.sc[c] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
    }
    u.d = h2f(blk + 208);
}

template <int MR, int NR>
inline void tile_q6k(const MatmulArgs &a, int64_t o, int64_t r) {
    const int64_t nb = a.K / 256;
    __m256 acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
    const uint8_t *w[MR];
    const float *xd[NR];
    const int8_t *xq[NR];
    for (int i = 0; i < MR; i++) w[i] = a.w + (size_t)(o + i) * a.w_stride;
    for (int j = 0; j < NR; j++) {
        const uint8_t *xr = a.x + (size_t)(r + j) * a.x_stride;
        xd[j] = reinterpret_cast<const float *>(xr);
        xq[j] = reinterpret_cast<const int8_t *>(xr + nb * 4);
    }
    Q6Unpacked u;
    for (int64_t b = 0; b < nb; b++) {
        for (int i = 0; i < MR; i++) {
            const uint8_t *blk = w[i] + b * kQ6KBytes;
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * kQ6KBytes), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * kQ6KBytes + 64), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * kQ6KBytes + 128), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * kQ6KBytes + 192), _MM_HINT_T0);
            unpack_q6k(blk, u);
            for (int j = 0; j < NR; j++) {
                const int8_t *xb = xq[j] + b * 256;
                __m256i isum = _mm256_setzero_si256();
                for (int c = 0; c < 8; c++) {
                    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xb + 32 * c));
                    const __m256i p16 =
                        _mm256_maddubs_epi16(_mm256_sign_epi8(u.q[c], u.q[c]), _mm256_sign_epi8(xv, u.q[c]));
                    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p16, u.sc[c]));
                }
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(u.d * xd[j][b]), _mm256_cvtepi32_ps(isum), acc[i][j]);
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) a.y[(size_t)(r + j) * a.y_stride + o + i] = hsum8(acc[i][j]);
}

// ---------------------------------------------------------------- tiling driver
// Tile shapes only change which elements share loads, never an element's arithmetic.
template <void (*T41)(const MatmulArgs &, int64_t, int64_t), void (*T11)(const MatmulArgs &, int64_t, int64_t),
          void (*T24)(const MatmulArgs &, int64_t, int64_t), void (*T14)(const MatmulArgs &, int64_t, int64_t),
          void (*T21)(const MatmulArgs &, int64_t, int64_t)>
void drive(const MatmulArgs &a, int64_t o0, int64_t o1) {
    if (a.nx < 4) {
        int64_t o = o0;
        for (; o + 4 <= o1; o += 4)
            for (int64_t r = 0; r < a.nx; r++) T41(a, o, r);
        for (; o < o1; o++)
            for (int64_t r = 0; r < a.nx; r++) T11(a, o, r);
        return;
    }
    int64_t o = o0;
    const int64_t nx4 = a.nx & ~int64_t(3);
    for (; o + 2 <= o1; o += 2) {
        int64_t r = 0;
        for (; r < nx4; r += 4) T24(a, o, r);
        for (; r < a.nx; r++) T21(a, o, r);
    }
    for (; o < o1; o++) {
        int64_t r = 0;
        for (; r < nx4; r += 4) T14(a, o, r);
        for (; r < a.nx; r++) T11(a, o, r);
    }
}

#define GLM_DRIVER(NAME, TILE, ...)                                                                                    \
    void NAME(const MatmulArgs &a, int64_t o0, int64_t o1) {                                                           \
        drive<TILE<__VA_ARGS__ 4, 1>, TILE<__VA_ARGS__ 1, 1>, TILE<__VA_ARGS__ 2, 4>, TILE<__VA_ARGS__ 1, 4>,          \
              TILE<__VA_ARGS__ 2, 1>>(a, o0, o1);                                                                      \
    }

GLM_DRIVER(mm_f32, tile_float, LoadF32, )
GLM_DRIVER(mm_f16, tile_float, LoadF16, )
GLM_DRIVER(mm_bf16, tile_float, LoadBF16, )
GLM_DRIVER(mm_q8_0, tile_q8, false, )
GLM_DRIVER(mm_q4_0, tile_q8, true, )
GLM_DRIVER(mm_q6_k, tile_q6k, )

// ---------------------------------------------------------------- panel kernels (AVX2)
// The AVX-512 path's panel layouts (panels.h), read as two 8-row halves. Without VNNI the 4-byte
// dot is VPMADDUBSW (u8 x s8 -> pairs of int16) summed in int16 while it cannot overflow (the
// unsigned quants are at most 15, 31 or 63 and activations within +-127), then VPMADDWD to
// int32. Per output the sequence is fixed (exact integer block dot, one multiply of the scales,
// one FMA per block), so gemm = gemv bit for bit. Q8_0 (biased bytes up to 255 would overflow
// the int16 pairs) keeps the row kernel above.
using namespace panel;

inline __m256i bc4(const int8_t *p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

inline __m256i mub(__m256i w, const int8_t *x) { return _mm256_maddubs_epi16(w, bc4(x)); }

inline void store8(const MatmulArgs &a, int64_t r, int64_t o, __m256 v) {
    float *y = a.y + (size_t)r * a.y_stride + o;
    const int64_t left = a.n_out - o;
    if (left >= 8) {
        _mm256_storeu_ps(y, v);
    } else if (left > 0) {
        alignas(32) float t[8];
        _mm256_store_ps(t, v);
        for (int64_t i = 0; i < left; i++) y[i] = t[i];
    }
}

template <int NR>
inline void tile2_q4_0(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    const int64_t nb = a.K / 32;
    ActRow x[NR];
    for (int j = 0; j < NR; j++) x[j] = act_q8_0s(a, r + j);
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    for (int half = 0; half < 2; half++) {
        __m256 acc[NR];
        for (int j = 0; j < NR; j++) acc[j] = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = panel + (size_t)b * kQ4Block;
            _mm_prefetch(reinterpret_cast<const char *>(blk + 16 * kQ4Block + 64 * half), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 16 * kQ4Block + 64 * half + 128), _MM_HINT_T0);
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 16 * half)));
            __m256i w[8];
            for (int v = 0; v < 4; v++) {
                const __m256i pk = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk + 32 + 64 * v + 32 * half));
                w[v] = _mm256_and_si256(pk, m4);
                w[v + 4] = _mm256_and_si256(_mm256_srli_epi16(pk, 4), m4);
            }
            for (int j = 0; j < NR; j++) {
                const int8_t *xq = x[j].q + b * 32;
                __m256i p = mub(w[0], xq);
                p = _mm256_add_epi16(p, mub(w[1], xq + 4));
                p = _mm256_add_epi16(p, mub(w[2], xq + 8));
                p = _mm256_add_epi16(p, mub(w[3], xq + 12));
                p = _mm256_add_epi16(p, mub(w[4], xq + 16));
                p = _mm256_add_epi16(p, mub(w[5], xq + 20));
                p = _mm256_add_epi16(p, mub(w[6], xq + 24));
                p = _mm256_add_epi16(p, mub(w[7], xq + 28));
                const __m256i i32 = _mm256_sub_epi32(_mm256_madd_epi16(p, ones), _mm256_set1_epi32(x[j].s32[b] << 3));
                acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x[j].d[b])), _mm256_cvtepi32_ps(i32), acc[j]);
            }
        }
        for (int j = 0; j < NR; j++) store8(a, r + j, o + 8 * half, acc[j]);
    }
}

template <int NR>
inline void tile2_q6k(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    const int64_t nb = a.K / 256;
    ActRow x[NR];
    for (int j = 0; j < NR; j++) x[j] = act_q8_k(a, r + j);
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), ones = _mm256_set1_epi16(1);
    for (int half = 0; half < 2; half++) {
        __m256 acc[NR];
        for (int j = 0; j < NR; j++) acc[j] = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = panel + (size_t)b * kQ6Block;
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 16 * half)));
            __m256i isum[NR];
            for (int j = 0; j < NR; j++) isum[j] = _mm256_setzero_si256();
            for (int g = 0; g < 16; g++) {
                const uint8_t *gd = blk + 288 + (size_t)g * 192 + 32 * half;
                _mm_prefetch(reinterpret_cast<const char *>(gd + 2 * kQ6Block), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char *>(gd + 2 * kQ6Block + 64), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char *>(gd + 2 * kQ6Block + 128), _MM_HINT_T0);
                const __m256i sc = _mm256_cvtepi8_epi32(
                    _mm_loadl_epi64(reinterpret_cast<const __m128i *>(blk + 32 + 16 * g + 8 * half)));
                const __m256i p0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(gd));
                const __m256i p1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(gd + 64));
                const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(gd + 128));
                const __m256i w0 =
                    _mm256_or_si256(_mm256_and_si256(p0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
                const __m256i w1 =
                    _mm256_or_si256(_mm256_and_si256(p1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
                const __m256i w2 =
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(p0, 4), m4), _mm256_and_si256(h, m30));
                const __m256i w3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(p1, 4), m4),
                                                   _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
                for (int j = 0; j < NR; j++) {
                    const int8_t *xq = x[j].q + b * 256 + g * 16;
                    // Pairs of at most 2 * 63 * 127: two of them still fit in int16.
                    const __m256i pa = _mm256_add_epi16(mub(w0, xq), mub(w1, xq + 4));
                    const __m256i pb = _mm256_add_epi16(mub(w2, xq + 8), mub(w3, xq + 12));
                    __m256i t = _mm256_add_epi32(_mm256_madd_epi16(pa, ones), _mm256_madd_epi16(pb, ones));
                    t = _mm256_sub_epi32(t, _mm256_set1_epi32(32 * (int32_t)x[j].s16[b * 16 + g]));
                    isum[j] = _mm256_add_epi32(isum[j], _mm256_mullo_epi32(t, sc));
                }
            }
            for (int j = 0; j < NR; j++) {
                acc[j] =
                    _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x[j].d[b])), _mm256_cvtepi32_ps(isum[j]), acc[j]);
            }
        }
        for (int j = 0; j < NR; j++) store8(a, r + j, o + 8 * half, acc[j]);
    }
}

template <bool Q5, int NR>
inline void tile2_k(const MatmulArgs &a, const uint8_t *panel, int64_t o, int64_t r) {
    constexpr size_t BB = Q5 ? kQ5KBlock : kQ4KBlock;
    const int64_t nb = a.K / 256;
    ActRow x[NR];
    for (int j = 0; j < NR; j++) x[j] = act_q8_k(a, r + j);
    const __m256i m4 = _mm256_set1_epi8(0x0f), m10 = _mm256_set1_epi8(0x10), ones = _mm256_set1_epi16(1);
    for (int half = 0; half < 2; half++) {
        __m256 acc[NR];
        for (int j = 0; j < NR; j++) acc[j] = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = panel + (size_t)b * BB;
            __m256i isum[NR];
            for (int j = 0; j < NR; j++) isum[j] = _mm256_setzero_si256();
            for (int sb = 0; sb < 8; sb++) {
                const uint8_t *sd = blk + kKHead + (size_t)sb * (Q5 ? 320 : 256) + 32 * half;
                for (int l = 0; l < (Q5 ? 5 : 4); l++)
                    _mm_prefetch(reinterpret_cast<const char *>(sd + 2 * BB + 64 * l), _MM_HINT_T0);
                const __m256i sc = _mm256_cvtepu8_epi32(
                    _mm_loadl_epi64(reinterpret_cast<const __m128i *>(blk + 64 + 16 * sb + 8 * half)));
                __m256i w[8];
                for (int v = 0; v < 4; v++) {
                    const __m256i pk = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(sd + 64 * v));
                    w[v] = _mm256_and_si256(pk, m4);
                    w[v + 4] = _mm256_and_si256(_mm256_srli_epi16(pk, 4), m4);
                }
                if (Q5) {
                    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(sd + 256));
                    w[0] = _mm256_or_si256(w[0], _mm256_and_si256(_mm256_slli_epi16(h, 4), m10));
                    w[1] = _mm256_or_si256(w[1], _mm256_and_si256(_mm256_slli_epi16(h, 3), m10));
                    w[2] = _mm256_or_si256(w[2], _mm256_and_si256(_mm256_slli_epi16(h, 2), m10));
                    w[3] = _mm256_or_si256(w[3], _mm256_and_si256(_mm256_slli_epi16(h, 1), m10));
                    w[4] = _mm256_or_si256(w[4], _mm256_and_si256(h, m10));
                    w[5] = _mm256_or_si256(w[5], _mm256_and_si256(_mm256_srli_epi16(h, 1), m10));
                    w[6] = _mm256_or_si256(w[6], _mm256_and_si256(_mm256_srli_epi16(h, 2), m10));
                    w[7] = _mm256_or_si256(w[7], _mm256_and_si256(_mm256_srli_epi16(h, 3), m10));
                }
                for (int j = 0; j < NR; j++) {
                    const int8_t *xq = x[j].q + b * 256 + 32 * sb;
                    // Q4_K pairs are at most 2 * 15 * 127 (eight fit in int16), Q5_K 2 * 31 * 127 (four).
                    __m256i t;
                    if (Q5) {
                        __m256i pa = _mm256_add_epi16(_mm256_add_epi16(mub(w[0], xq), mub(w[1], xq + 4)),
                                                      _mm256_add_epi16(mub(w[2], xq + 8), mub(w[3], xq + 12)));
                        __m256i pb = _mm256_add_epi16(_mm256_add_epi16(mub(w[4], xq + 16), mub(w[5], xq + 20)),
                                                      _mm256_add_epi16(mub(w[6], xq + 24), mub(w[7], xq + 28)));
                        t = _mm256_add_epi32(_mm256_madd_epi16(pa, ones), _mm256_madd_epi16(pb, ones));
                    } else {
                        __m256i p = mub(w[0], xq);
                        for (int v = 1; v < 8; v++) p = _mm256_add_epi16(p, mub(w[v], xq + 4 * v));
                        t = _mm256_madd_epi16(p, ones);
                    }
                    isum[j] = _mm256_add_epi32(isum[j], _mm256_mullo_epi32(t, sc));
                }
            }
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 16 * half)));
            const __m256 dmw =
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 32 + 16 * half)));
            for (int j = 0; j < NR; j++) {
                const int16_t *bs = x[j].s16 + b * 16;
                __m256i ms = _mm256_setzero_si256();
                for (int jp = 0; jp < 4; jp++) {
                    const int32_t lo = (int32_t)bs[4 * jp] + bs[4 * jp + 1],
                                  hi = (int32_t)bs[4 * jp + 2] + bs[4 * jp + 3];
                    const __m256i pr =
                        _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16)));
                    const __m256i mn = _mm256_cvtepu8_epi16(
                        _mm_loadu_si128(reinterpret_cast<const __m128i *>(blk + 192 + 32 * jp + 16 * half)));
                    ms = _mm256_add_epi32(ms, _mm256_madd_epi16(mn, pr));
                }
                const __m256 dx = _mm256_set1_ps(x[j].d[b]);
                acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(isum[j]), acc[j]);
                acc[j] = _mm256_fnmadd_ps(_mm256_mul_ps(dmw, dx), _mm256_cvtepi32_ps(ms), acc[j]);
            }
        }
        for (int j = 0; j < NR; j++) store8(a, r + j, o + 8 * half, acc[j]);
    }
}

template <void (*T4)(const MatmulArgs &, const uint8_t *, int64_t, int64_t),
          void (*T2)(const MatmulArgs &, const uint8_t *, int64_t, int64_t),
          void (*T1)(const MatmulArgs &, const uint8_t *, int64_t, int64_t)>
void drive_panels(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; o += kPanelRows) {
        const uint8_t *panel = a.w + (size_t)(o / kPanelRows) * a.w_stride;
        int64_t r = 0;
        for (; r + 4 <= a.nx; r += 4) T4(a, panel, o, r);
        for (; r + 2 <= a.nx; r += 2) T2(a, panel, o, r);
        for (; r < a.nx; r++) T1(a, panel, o, r);
    }
}

template <int NR>
inline void tile2_q4_k(const MatmulArgs &a, const uint8_t *p, int64_t o, int64_t r) {
    tile2_k<false, NR>(a, p, o, r);
}
template <int NR>
inline void tile2_q5_k(const MatmulArgs &a, const uint8_t *p, int64_t o, int64_t r) {
    tile2_k<true, NR>(a, p, o, r);
}
inline void tile2_q4_k4(const MatmulArgs &a, const uint8_t *p, int64_t o, int64_t r) {
    tile2_k<false, 2>(a, p, o, r);
    tile2_k<false, 2>(a, p, o, r + 2);
}
inline void tile2_q5_k4(const MatmulArgs &a, const uint8_t *p, int64_t o, int64_t r) {
    tile2_k<true, 2>(a, p, o, r);
    tile2_k<true, 2>(a, p, o, r + 2);
}

void pm2_q4_0(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive_panels<tile2_q4_0<4>, tile2_q4_0<2>, tile2_q4_0<1>>(a, o0, o1);
}
void pm2_q6_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive_panels<tile2_q6k<4>, tile2_q6k<2>, tile2_q6k<1>>(a, o0, o1);
}
void pm2_q4_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive_panels<tile2_q4_k4, tile2_q4_k<2>, tile2_q4_k<1>>(a, o0, o1);
}
void pm2_q5_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    drive_panels<tile2_q5_k4, tile2_q5_k<2>, tile2_q5_k<1>>(a, o0, o1);
}

// ---------------------------------------------------------------- activation quantisers (AVX2)
// Same bytes as quantize_act (tested): round-half-even through VROUNDPS, int32 -> int8 packs
// with the lane-crossing fixed by one permute.
inline float hmax8(__m256 v) {
    __m128 r = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    r = _mm_max_ps(r, _mm_movehl_ps(r, r));
    r = _mm_max_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

inline int32_t hsum8i(__m256i v) {
    __m128i r = _mm_add_epi32(_mm256_extracti128_si256(v, 1), _mm256_castsi256_si128(v));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0x4e));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0xb1));
    return _mm_cvtsi128_si32(r);
}

// 32 int32 (4 vectors, element order) -> 32 int8 in order.
inline __m256i pack32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    const __m256i a = _mm256_packs_epi32(i0, i1), b = _mm256_packs_epi32(i2, i3);
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

void quantize_q8_0_v(const float *x, uint8_t *out, int64_t K, bool sums) {
    const int64_t nb = K / 32;
    float *d = reinterpret_cast<float *>(out);
    int8_t *q = reinterpret_cast<int8_t *>(out + nb * 4);
    int32_t *s = reinterpret_cast<int32_t *>(out + nb * 4 + K);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < nb; b++) {
        __m256 v[4];
        __m256 mx = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(x + b * 32 + 8 * i);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[i]));
        }
        const float amax = hmax8(mx);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = _cvtsh_ss(_cvtss_sh(amax / 127.0f, 0));
        const __m256 idv = _mm256_set1_ps(id);
        __m256i iv[4];
        for (int i = 0; i < 4; i++)
            iv[i] = _mm256_cvtps_epi32(
                _mm256_round_ps(_mm256_mul_ps(v[i], idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + b * 32), pack32(iv[0], iv[1], iv[2], iv[3]));
        if (sums) s[b] = hsum8i(_mm256_add_epi32(_mm256_add_epi32(iv[0], iv[1]), _mm256_add_epi32(iv[2], iv[3])));
    }
}

void quantize_q8_k_v(const float *x, uint8_t *out, int64_t K) {
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
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i hi = _mm256_set1_epi32(127);
        for (int g = 0; g < 8; g++) { // 32 values per pass = two groups of 16
            __m256i iv[4];
            for (int i = 0; i < 4; i++) {
                const __m256 v = _mm256_mul_ps(is, _mm256_loadu_ps(xb + 32 * g + 8 * i));
                iv[i] = _mm256_min_epi32(
                    _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)), hi);
            }
            _mm256_storeu_si256(reinterpret_cast<__m256i *>(qb + 32 * g), pack32(iv[0], iv[1], iv[2], iv[3]));
            bs[b * 16 + 2 * g] = (int16_t)hsum8i(_mm256_add_epi32(iv[0], iv[1]));
            bs[b * 16 + 2 * g + 1] = (int16_t)hsum8i(_mm256_add_epi32(iv[2], iv[3]));
        }
        d[b] = 1.0f / iscale;
    }
}

void quantize_v(ActType act, const float *x, uint8_t *out, int64_t K) {
    switch (act) {
        case ACT_Q8_0:
            quantize_q8_0_v(x, out, K, false);
            return;
        case ACT_Q8_0S:
            quantize_q8_0_v(x, out, K, true);
            return;
        case ACT_Q8_K:
            quantize_q8_k_v(x, out, K);
            return;
        default:
            quantize_act(act, x, out, K);
    }
}

void axpy_f32_v(float *out, float w, const float *v, int64_t n) {
    const __m256 wv = _mm256_set1_ps(w);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), _mm256_mul_ps(wv, _mm256_loadu_ps(v + i))));
    }
    for (; i < n; i++) out[i] = out[i] + w * v[i];
}

void axpy_f16_v(float *out, float w, const uint16_t *v, int64_t n) {
    const __m256 wv = _mm256_set1_ps(w);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vf = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(v + i)));
        _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), _mm256_mul_ps(wv, vf)));
    }
    for (; i < n; i++) out[i] = out[i] + w * _cvtsh_ss(v[i]);
}

void to_f16_v(const float *x, uint16_t *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i *>(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) y[i] = fp32_to_fp16(x[i]);
}

float dot_f32_v(const float *a, const float *b, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    float s = hsum8(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

float dot_f16_v(const uint16_t *a, const uint16_t *b, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i))),
                              _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b + i))), acc);
    }
    float s = hsum8(acc);
    for (; i < n; i++) s += _cvtsh_ss(a[i]) * _cvtsh_ss(b[i]);
    return s;
}

const KernelSet kAvx2 = {
    "avx2",
    {mm_f32, mm_f16, mm_bf16, mm_q8_0, mm_q4_0, mm_q6_k, mm_q4_k_scalar, mm_q5_k_scalar},
    panel::pack_bytes,
    panel::pack,
    {nullptr, nullptr, nullptr, nullptr, pm2_q4_0, pm2_q6_k, pm2_q4_k, pm2_q5_k},
    {ACT_F32, ACT_F32, ACT_F32, ACT_F32, ACT_Q8_0S, ACT_Q8_K, ACT_Q8_K, ACT_Q8_K},
    dot_f32_v,
    dot_f16_v,
    axpy_f32_v,
    axpy_f16_v,
    quantize_v,
    attend_generic,
    silu_mul_generic,
    rmsnorm_generic,
    to_f16_v,
};

} // namespace

const KernelSet *kernels_avx2() { return &kAvx2; }

} // namespace glm
