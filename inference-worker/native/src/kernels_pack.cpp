// The portable panel packer (layouts in panels.h and kernels_avx512.cpp's header comment).
#include <cstring>

#include "common.h"
#include "panels.h"

namespace glm {
namespace panel {
namespace {
constexpr int P = (int)kPanelRows;
// ------------------------------------------------------------------------------------ packing
size_t block_bytes(int32_t kind) {
    switch (kind) {
        case W_Q4_0:
            return kQ4Block;
        case W_Q8_0:
            return kQ8Block;
        case W_Q6_K:
            return kQ6Block;
        case W_Q4_K:
            return kQ4KBlock;
        case W_Q5_K:
            return kQ5KBlock;
        default:
            return 0;
    }
}

int64_t block_len(int32_t kind) { return (kind == W_Q6_K || kind == W_Q4_K || kind == W_Q5_K) ? QK_K : QK4_0; }

} // namespace

size_t pack_bytes(int32_t kind, int64_t out, int64_t K) {
    const size_t bb = block_bytes(kind);
    if (bb == 0 || K % block_len(kind) != 0) return 0;
    return (size_t)((out + P - 1) / P) * (size_t)(K / block_len(kind)) * bb;
}

// Unsigned quant of input k (0..31) of a Q4_0 block.
inline uint8_t q4_at(const uint8_t *blk, int k) { return k < 16 ? (blk[2 + k] & 0x0f) : (blk[2 + k - 16] >> 4); }

// Quant (-32..31) of input e (0..255) of a Q6_K super-block.
inline int q6_at(const uint8_t *blk, int e) {
    const int h = e / 128, m = (e % 128) / 32, l = e % 32;
    const uint8_t *ql = blk + 64 * h, *qh = blk + 128 + 32 * h;
    const int lo = (m & 1) ? ql[l + 32] : ql[l];
    const int nib = (m < 2) ? (lo & 0x0f) : (lo >> 4);
    const int hi = (qh[l] >> (2 * m)) & 3;
    return (nib | (hi << 4)) - 32;
}

void pack(int32_t kind, const uint8_t *w, size_t w_stride, int64_t out, int64_t K, uint8_t *dst, int64_t p0,
          int64_t p1) {
    const int64_t nb = K / block_len(kind);
    const size_t bb = block_bytes(kind);
    const size_t panel = (size_t)nb * bb;
    static const uint8_t zero_blk[256] = {};
    for (int64_t p = p0; p < p1; p++) {
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *d = dst + (size_t)p * panel + (size_t)b * bb;
            std::memset(d, 0, bb);
            for (int o = 0; o < P; o++) {
                const int64_t row = p * P + o;
                const bool real = row < out;
                if (kind == W_Q4_0) {
                    const uint8_t *blk = real ? w + (size_t)row * w_stride + (size_t)b * kQ4_0Bytes : zero_blk;
                    std::memcpy(d + 2 * o, blk, 2);
                    for (int v = 0; v < 4; v++)
                        for (int i = 0; i < 4; i++) {
                            const uint8_t lo = real ? q4_at(blk, 4 * v + i) : 8,
                                          hi = real ? q4_at(blk, 4 * (v + 4) + i) : 8;
                            d[32 + v * 64 + o * 4 + i] = (uint8_t)(lo | (hi << 4));
                        }
                } else if (kind == W_Q8_0) {
                    const uint8_t *blk = real ? w + (size_t)row * w_stride + (size_t)b * kQ8_0Bytes : zero_blk;
                    std::memcpy(d + 2 * o, blk, 2);
                    for (int g = 0; g < 8; g++)
                        for (int i = 0; i < 4; i++) d[32 + g * 64 + o * 4 + i] = (uint8_t)(blk[2 + 4 * g + i] ^ 0x80);
                } else if (kind == W_Q4_K || kind == W_Q5_K) {
                    const bool q5 = kind == W_Q5_K;
                    uint8_t q[256] = {};
                    int sc[8] = {}, mn[8] = {};
                    if (real) {
                        const uint8_t *blk = w + (size_t)row * w_stride + (size_t)b * (q5 ? kQ5KBytes : kQ4KBytes);
                        std::memcpy(d + 2 * o, blk, 2);
                        std::memcpy(d + 32 + 2 * o, blk + 2, 2);
                        k_unpack(blk, q5, q);
                        for (int j = 0; j < 8; j++) k_scale_min(j, blk + 4, &sc[j], &mn[j]);
                    }
                    for (int j = 0; j < 8; j++) {
                        d[64 + 16 * j + o] = (uint8_t)sc[j];
                        d[192 + 32 * (j / 2) + 2 * o + (j % 2)] = (uint8_t)mn[j];
                        uint8_t *sd = d + kKHead + (size_t)j * (q5 ? 320 : 256);
                        for (int v = 0; v < 4; v++)
                            for (int i = 0; i < 4; i++)
                                sd[v * 64 + o * 4 + i] =
                                    (uint8_t)((q[32 * j + 4 * v + i] & 15) | ((q[32 * j + 4 * (v + 4) + i] & 15) << 4));
                        if (q5) {
                            for (int i = 0; i < 4; i++) {
                                uint8_t hb = 0; // bit kk: the fifth bit of input 4kk + i
                                for (int kk = 0; kk < 8; kk++)
                                    hb |= (uint8_t)(((q[32 * j + 4 * kk + i] >> 4) & 1) << kk);
                                sd[256 + o * 4 + i] = hb;
                            }
                        }
                    }
                } else { // W_Q6_K
                    const uint8_t *blk = real ? w + (size_t)row * w_stride + (size_t)b * kQ6KBytes : nullptr;
                    if (real) std::memcpy(d + 2 * o, blk + 208, 2);
                    for (int g = 0; g < 16; g++) {
                        d[32 + g * 16 + o] = real ? blk[192 + g] : 0;
                        uint8_t *gd = d + 288 + (size_t)g * 192;
                        for (int i = 0; i < 4; i++) {
                            uint8_t qv[4]; // q + 32 of inputs 16g + 4kk + i
                            for (int kk = 0; kk < 4; kk++)
                                qv[kk] = (uint8_t)(real ? q6_at(blk, 16 * g + 4 * kk + i) + 32 : 32);
                            gd[0 * 64 + o * 4 + i] = (uint8_t)((qv[0] & 15) | ((qv[2] & 15) << 4));
                            gd[1 * 64 + o * 4 + i] = (uint8_t)((qv[1] & 15) | ((qv[3] & 15) << 4));
                            gd[2 * 64 + o * 4 + i] = (uint8_t)((qv[0] >> 4) | ((qv[1] >> 4) << 2) |
                                                               ((qv[2] >> 4) << 4) | ((qv[3] >> 4) << 6));
                        }
                    }
                }
            }
        }
    }
}

} // namespace panel
} // namespace glm
