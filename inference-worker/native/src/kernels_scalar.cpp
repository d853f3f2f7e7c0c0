// Scalar reference kernels: plain C++, one accumulation order per output element.
#include "common.h"
#include "kernels.h"

namespace glm {
namespace {

template <class RowDot>
void for_each_element(const MatmulArgs &a, int64_t o0, int64_t o1, RowDot dot) {
    for (int64_t o = o0; o < o1; o++) {
        const uint8_t *w = a.w + (size_t)o * a.w_stride;
        for (int64_t r = 0; r < a.nx; r++) {
            a.y[(size_t)r * a.y_stride + o] = dot(w, a.x + (size_t)r * a.x_stride, a.K);
        }
    }
}

void axpy_f32_s(float *out, float w, const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = out[i] + w * v[i];
}

void axpy_f16_s(float *out, float w, const uint16_t *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = out[i] + w * fp16_to_fp32(v[i]);
}

float dot_f32_s(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

float dot_f16_s(const uint16_t *a, const uint16_t *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += fp16_to_fp32(a[i]) * fp16_to_fp32(b[i]);
    return s;
}

void mm_f32(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for_each_element(a, o0, o1, [](const uint8_t *w, const uint8_t *x, int64_t K) {
        return dot_f32_s(reinterpret_cast<const float *>(w), reinterpret_cast<const float *>(x), K);
    });
}

void mm_f16(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for_each_element(a, o0, o1, [](const uint8_t *w, const uint8_t *x, int64_t K) {
        return dot_f16_s(reinterpret_cast<const uint16_t *>(w), reinterpret_cast<const uint16_t *>(x), K);
    });
}

void mm_bf16(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for_each_element(a, o0, o1, [](const uint8_t *w8, const uint8_t *x8, int64_t K) {
        const uint16_t *w = reinterpret_cast<const uint16_t *>(w8);
        const uint16_t *x = reinterpret_cast<const uint16_t *>(x8);
        float s = 0.0f;
        for (int64_t i = 0; i < K; i++) s += bf16_to_fp32(w[i]) * bf16_to_fp32(x[i]);
        return s;
    });
}

inline uint16_t rd16(const uint8_t *p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

void mm_q8_0(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for_each_element(a, o0, o1, [](const uint8_t *w, const uint8_t *x, int64_t K) {
        const int64_t nb = K / 32;
        const float *xd = reinterpret_cast<const float *>(x);
        const int8_t *xq = reinterpret_cast<const int8_t *>(x + nb * 4);
        float s = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = w + b * kQ8_0Bytes;
            const int8_t *wq = reinterpret_cast<const int8_t *>(blk + 2);
            int32_t isum = 0;
            for (int j = 0; j < 32; j++) isum += (int32_t)wq[j] * xq[b * 32 + j];
            s += (fp16_to_fp32(rd16(blk)) * xd[b]) * (float)isum;
        }
        return s;
    });
}

void mm_q4_0(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for_each_element(a, o0, o1, [](const uint8_t *w, const uint8_t *x, int64_t K) {
        const int64_t nb = K / 32;
        const float *xd = reinterpret_cast<const float *>(x);
        const int8_t *xq = reinterpret_cast<const int8_t *>(x + nb * 4);
        float s = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = w + b * kQ4_0Bytes;
            const uint8_t *qs = blk + 2;
            int32_t isum = 0;
            for (int j = 0; j < 16; j++) {
                isum += ((int32_t)(qs[j] & 0x0f) - 8) * xq[b * 32 + j];
                isum += ((int32_t)(qs[j] >> 4) - 8) * xq[b * 32 + j + 16];
            }
            s += (fp16_to_fp32(rd16(blk)) * xd[b]) * (float)isum;
        }
        return s;
    });
}

void mm_q6_k(const MatmulArgs &a, int64_t o0, int64_t o1) {
    for_each_element(a, o0, o1, [](const uint8_t *w, const uint8_t *x, int64_t K) {
        const int64_t nb = K / 256;
        const float *xd = reinterpret_cast<const float *>(x);
        const int8_t *xq = reinterpret_cast<const int8_t *>(x + nb * 4);
        float s = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = w + b * kQ6KBytes;
            const uint8_t *ql = blk, *qh = blk + 128;
            const int8_t *sc = reinterpret_cast<const int8_t *>(blk + 192);
            int8_t q[256];
            for (int n = 0; n < 256; n += 128) {
                for (int l = 0; l < 32; l++) {
                    q[n + l] = (int8_t)(((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32);
                    q[n + l + 32] = (int8_t)(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    q[n + l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    q[n + l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
                ql += 64;
                qh += 32;
            }
            const int8_t *xb = xq + b * 256;
            int32_t isum = 0;
            for (int g = 0; g < 16; g++) {
                int32_t gs = 0;
                for (int j = 0; j < 16; j++) gs += (int32_t)q[g * 16 + j] * xb[g * 16 + j];
                isum += gs * sc[g];
            }
            s += (fp16_to_fp32(rd16(blk + 208)) * xd[b]) * (float)isum;
        }
        return s;
    });
}

const KernelSet kScalar = {
    "scalar",
    {mm_f32, mm_f16, mm_bf16, mm_q8_0, mm_q4_0, mm_q6_k, mm_q4_k_scalar, mm_q5_k_scalar},
    nullptr,
    nullptr,
    {},
    {},
    dot_f32_s,
    dot_f16_s,
    axpy_f32_s,
    axpy_f16_s,
    quantize_act,
    attend_generic,
    silu_mul_generic,
    rmsnorm_generic,
    to_f16_generic,
};

} // namespace

// Per super-block: d*dx*sum_j(sc_j * dot_j) - dmin*dx*sum_j(m_j * xsum_j), integers exact.
template <bool Q5>
static float dot_k(const uint8_t *w, const uint8_t *x, int64_t K) {
    const int64_t nb = K / 256;
    constexpr int BB = Q5 ? kQ5KBytes : kQ4KBytes;
    const float *xd = reinterpret_cast<const float *>(x);
    const int8_t *xq = reinterpret_cast<const int8_t *>(x + nb * 4);
    const int16_t *bs = reinterpret_cast<const int16_t *>(x + nb * 4 + K);
    float s = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + b * BB;
        uint8_t q[256];
        k_unpack(blk, Q5, q);
        const int8_t *xb = xq + b * 256;
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            k_scale_min(j, blk + 4, &sc, &m);
            int32_t t = 0;
            for (int l = 0; l < 32; l++) t += (int32_t)q[32 * j + l] * xb[32 * j + l];
            isum += sc * t;
            msum += m * ((int32_t)bs[b * 16 + 2 * j] + bs[b * 16 + 2 * j + 1]);
        }
        s = s + (fp16_to_fp32(rd16(blk)) * xd[b]) * (float)isum;
        s = s - (fp16_to_fp32(rd16(blk + 2)) * xd[b]) * (float)msum;
    }
    return s;
}
void mm_q4_k_scalar(const MatmulArgs &a, int64_t o0, int64_t o1) { for_each_element(a, o0, o1, dot_k<false>); }
void mm_q5_k_scalar(const MatmulArgs &a, int64_t o0, int64_t o1) { for_each_element(a, o0, o1, dot_k<true>); }

const KernelSet &kernels_scalar() { return kScalar; }

} // namespace glm
