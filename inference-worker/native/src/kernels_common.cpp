#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "common.h"
#include "kernels.h"

namespace glm {

int32_t weight_kind(int32_t t) {
    switch (t) {
        case T_F32:
            return W_F32;
        case T_F16:
            return W_F16;
        case T_BF16:
            return W_BF16;
        case T_Q8_0:
            return W_Q8_0;
        case T_Q4_0:
            return W_Q4_0;
        case T_Q6_K:
            return W_Q6_K;
        case T_Q4_K:
            return W_Q4_K;
        case T_Q5_K:
            return W_Q5_K;
        default:
            return -1;
    }
}

ActType act_type_of(int32_t kind) {
    switch (kind) {
        case W_F32:
            return ACT_F32;
        case W_F16:
            return ACT_F16;
        case W_BF16:
            return ACT_BF16;
        case W_Q8_0:
        case W_Q4_0:
            return ACT_Q8_0;
        case W_Q6_K:
        case W_Q4_K:
        case W_Q5_K:
            return ACT_Q8_K;
        default:
            return ACT_F32;
    }
}

static size_t round64(size_t n) { return (n + 63) & ~size_t(63); }

size_t act_row_bytes(ActType act, int64_t K) {
    switch (act) {
        case ACT_F32:
            return round64((size_t)K * 4);
        case ACT_F16:
        case ACT_BF16:
            return round64((size_t)K * 2);
        case ACT_Q8_0:
            return round64((size_t)(K / 32) * 4 + (size_t)K);
        case ACT_Q8_K:
            return round64((size_t)(K / 256) * 4 + (size_t)K + (size_t)(K / 16) * 2);
        case ACT_Q8_0S:
            return round64((size_t)(K / 32) * 8 + (size_t)K);
        default:
            return 0;
    }
}

float q8k_block_max(const float *xb, float *d, int8_t *qb, int16_t *bs) {
    float mx = 0.0f, amax = 0.0f;
    for (int j = 0; j < 256; j++) {
        const float ax = std::fabs(xb[j]);
        if (ax > amax) {
            amax = ax;
            mx = xb[j];
        }
    }
    if (amax == 0.0f) {
        *d = 0.0f;
        std::memset(qb, 0, 256);
        for (int g = 0; g < 16; g++) bs[g] = 0;
    }
    return amax == 0.0f ? 0.0f : mx;
}

void quantize_act(ActType act, const float *x, uint8_t *out, int64_t K) {
    switch (act) {
        case ACT_F32:
            std::memcpy(out, x, (size_t)K * 4);
            return;
        case ACT_F16: {
            uint16_t *o = reinterpret_cast<uint16_t *>(out);
            for (int64_t i = 0; i < K; i++) o[i] = fp32_to_fp16(x[i]);
            return;
        }
        case ACT_BF16: {
            uint16_t *o = reinterpret_cast<uint16_t *>(out);
            for (int64_t i = 0; i < K; i++) o[i] = fp32_to_bf16(x[i]);
            return;
        }
        case ACT_Q8_0S: {
            quantize_act(ACT_Q8_0, x, out, K);
            const int64_t nb = K / 32;
            const int8_t *q = reinterpret_cast<const int8_t *>(out + nb * 4);
            int32_t *s = reinterpret_cast<int32_t *>(out + nb * 4 + K);
            for (int64_t b = 0; b < nb; b++) {
                int32_t t = 0;
                for (int j = 0; j < 32; j++) t += q[b * 32 + j];
                s[b] = t;
            }
            return;
        }
        case ACT_Q8_0: {
            // llama.cpp's x86 quantize_row_q8_0: d = amax/127 stored as fp16, q = round_half_even(x*127/amax).
            const int64_t nb = K / 32;
            float *d = reinterpret_cast<float *>(out);
            int8_t *q = reinterpret_cast<int8_t *>(out + nb * 4);
            for (int64_t b = 0; b < nb; b++) {
                const float *xb = x + b * 32;
                float amax = 0.0f;
                for (int j = 0; j < 32; j++) amax = std::fmax(amax, std::fabs(xb[j]));
                const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
                d[b] = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
                for (int j = 0; j < 32; j++) q[b * 32 + j] = (int8_t)std::nearbyint(xb[j] * id);
            }
            return;
        }
        case ACT_Q8_K: {
            // llama.cpp's quantize_row_q8_K_ref (used on x86 too).
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
                for (int j = 0; j < 256; j++) {
                    // nearest_int: round half to even through the float magic number, as ggml does.
                    float val = iscale * xb[j] + 12582912.0f;
                    int32_t iv;
                    std::memcpy(&iv, &val, 4);
                    int v = (iv & 0x007fffff) - 0x00400000;
                    qb[j] = (int8_t)(v < 127 ? v : 127);
                }
                for (int g = 0; g < 16; g++) {
                    int s = 0;
                    for (int j = 0; j < 16; j++) s += qb[g * 16 + j];
                    bs[b * 16 + g] = (int16_t)s;
                }
                d[b] = 1.0f / iscale;
            }
            return;
        }
        default:
            return;
    }
}

void attend_generic(const KernelSet &k, const AttnArgs &a) {
    const int64_t bs = a.block_size, hd = a.head_dim;
    float *sc = a.scratch;
    if (a.f16)
        for (int64_t i = 0; i < hd; i++) a.q16[i] = fp32_to_fp16(a.q[i]);
    float mx = -INFINITY;
    for (int64_t p = 0; p < a.npos; p++) {
        const size_t slot = (size_t)a.table[p / bs] * bs + (size_t)(p % bs);
        float d;
        if (a.f16)
            d = k.dot_f16(reinterpret_cast<const uint16_t *>(a.k + slot * a.slot_bytes), a.q16, hd);
        else
            d = k.dot_f32(reinterpret_cast<const float *>(a.k + slot * a.slot_bytes), a.q, hd);
        d = d * a.scale;
        sc[p] = d;
        mx = std::max(mx, d);
    }
    double sum = 0.0;
    for (int64_t p = 0; p < a.npos; p++) {
        const float e = std::exp(sc[p] - mx);
        sum += (double)e;
        sc[p] = e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < hd; i++) a.out[i] = 0.0f;
    for (int64_t p = 0; p < a.npos; p++) {
        const size_t slot = (size_t)a.table[p / bs] * bs + (size_t)(p % bs);
        float w = sc[p] * inv;
        if (a.f16) {
            w = fp16_to_fp32(fp32_to_fp16(w));
            k.axpy_f16(a.out, w, reinterpret_cast<const uint16_t *>(a.v + slot * a.slot_bytes), hd);
        } else {
            k.axpy_f32(a.out, w, reinterpret_cast<const float *>(a.v + slot * a.slot_bytes), hd);
        }
    }
}

void silu_mul_generic(float *out, const float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = (g[i] / (1.0f + std::exp(-g[i]))) * u[i];
}

void k_scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

void k_unpack(const uint8_t *blk, bool q5, uint8_t q[256]) {
    const uint8_t *qh = blk + 16, *qs = blk + 16 + (q5 ? 32 : 0);
    for (int j = 0; j < 4; j++) {
        for (int l = 0; l < 32; l++) {
            int lo = qs[32 * j + l] & 0x0f, hi = qs[32 * j + l] >> 4;
            if (q5) {
                lo |= ((qh[l] >> (2 * j)) & 1) << 4;
                hi |= ((qh[l] >> (2 * j + 1)) & 1) << 4;
            }
            q[64 * j + l] = (uint8_t)lo;
            q[64 * j + 32 + l] = (uint8_t)hi;
        }
    }
}

void rmsnorm_generic(const float *x, const float *w, float *y, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale;
    if (w)
        for (int64_t i = 0; i < n; i++) y[i] = y[i] * w[i];
}

void to_f16_generic(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fp32_to_fp16(x[i]);
}

bool cpu_has_avx2() {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

bool cpu_has_avx512() {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

const KernelSet *kernels_by_name(const char *name) {
    if (!name) return nullptr;
    if (std::strcmp(name, "scalar") == 0) return &kernels_scalar();
    if (std::strcmp(name, "avx2") == 0) return cpu_has_avx2() ? kernels_avx2() : nullptr;
    if (std::strcmp(name, "avx512") == 0) return cpu_has_avx512() ? kernels_avx512() : nullptr;
    return nullptr;
}

const KernelSet &active_kernels() {
    static const KernelSet *chosen = [] {
        const KernelSet *k = nullptr;
        if (const char *env = std::getenv("GLM_CPU_PATH")) k = kernels_by_name(env);
        if (!k && cpu_has_avx512()) k = kernels_avx512();
        if (!k && cpu_has_avx2()) k = kernels_avx2();
        if (!k) k = &kernels_scalar();
        return k;
    }();
    return *chosen;
}

} // namespace glm
