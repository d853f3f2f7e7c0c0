// AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c only in this file; called only when
// CPUID reports those features.
//
// Every output element is produced by the same per-block instruction sequence (integer block dot,
// then one FMA of the block scale into an 8-lane f32 accumulator, then one fixed horizontal sum),
// whatever the tile shape: matrix-matrix and matrix-vector results are bit-identical.
#include <immintrin.h>

#include "common.h"
#include "kernels.h"

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
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(reinterpret_cast<const uint16_t *>(p) + i)));
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
    constexpr int BS = Q4 ? 18 : 34;
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
    __m256i q[8];   // 256 values (q - 32), 32 per vector
    __m256i sc[8];  // per vector: 8 x scale of its first 16, 8 x scale of its second 16 (int16)
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
            const uint8_t *blk = w[i] + b * 210;
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * 210), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * 210 + 64), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * 210 + 128), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(blk + 2 * 210 + 192), _MM_HINT_T0);
            unpack_q6k(blk, u);
            for (int j = 0; j < NR; j++) {
                const int8_t *xb = xq[j] + b * 256;
                __m256i isum = _mm256_setzero_si256();
                for (int c = 0; c < 8; c++) {
                    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xb + 32 * c));
                    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(u.q[c], u.q[c]), _mm256_sign_epi8(xv, u.q[c]));
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

#define GLM_DRIVER(NAME, TILE, ...)                                                                              \
    void NAME(const MatmulArgs &a, int64_t o0, int64_t o1) {                                                    \
        drive<TILE<__VA_ARGS__ 4, 1>, TILE<__VA_ARGS__ 1, 1>, TILE<__VA_ARGS__ 2, 4>, TILE<__VA_ARGS__ 1, 4>,     \
              TILE<__VA_ARGS__ 2, 1>>(a, o0, o1);                                                               \
    }

GLM_DRIVER(mm_f32, tile_float, LoadF32,)
GLM_DRIVER(mm_f16, tile_float, LoadF16,)
GLM_DRIVER(mm_bf16, tile_float, LoadBF16,)
GLM_DRIVER(mm_q8_0, tile_q8, false,)
GLM_DRIVER(mm_q4_0, tile_q8, true,)
GLM_DRIVER(mm_q6_k, tile_q6k,)

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
        _mm_storeu_si128(reinterpret_cast<__m128i *>(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
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
    nullptr,
    nullptr,
    {},
    {},
    dot_f32_v,
    dot_f16_v,
    axpy_f32_v,
    axpy_f16_v,
    quantize_act,
    attend_generic,
    silu_mul_generic,
    rmsnorm_generic,
    to_f16_v,
};

}  // namespace

const KernelSet *kernels_avx2() { return &kAvx2; }

}  // namespace glm
