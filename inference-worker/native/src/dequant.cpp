// Dequantisation of one weight row to floats: embedding lookups, and the reference the CUDA
// layout test checks its conversions against.
#include "engine.h"

#include <cstring>

namespace glm {

void dequant_row_bytes(int32_t type, const uint8_t *p, int64_t K, float *out) {
    const size_t bb = type_info(type).bytes; // bytes per block, from the one GGUF type table
    switch (type) {
        case T_F32:
            std::memcpy(out, p, (size_t)K * 4);
            break;
        case T_F16:
            for (int64_t i = 0; i < K; i++) {
                uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                out[i] = fp16_to_fp32(h);
            }
            break;
        case T_BF16:
            for (int64_t i = 0; i < K; i++) {
                uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                out[i] = bf16_to_fp32(h);
            }
            break;
        case T_Q8_0:
            for (int64_t b = 0; b < K / 32; b++) {
                const uint8_t *blk = p + b * bb;
                uint16_t h;
                std::memcpy(&h, blk, 2);
                const float d = fp16_to_fp32(h);
                for (int j = 0; j < 32; j++) out[b * 32 + j] = (float)(int8_t)blk[2 + j] * d;
            }
            break;
        case T_Q4_0:
            for (int64_t b = 0; b < K / 32; b++) {
                const uint8_t *blk = p + b * bb;
                uint16_t h;
                std::memcpy(&h, blk, 2);
                const float d = fp16_to_fp32(h);
                for (int j = 0; j < 16; j++) {
                    out[b * 32 + j] = (float)((int)(blk[2 + j] & 0x0f) - 8) * d;
                    out[b * 32 + j + 16] = (float)((int)(blk[2 + j] >> 4) - 8) * d;
                }
            }
            break;
        case T_Q6_K:
            for (int64_t b = 0; b < K / 256; b++) {
                const uint8_t *blk = p + b * bb;
                const uint8_t *ql = blk, *qh = blk + 128;
                const int8_t *sc = reinterpret_cast<const int8_t *>(blk + 192);
                uint16_t h;
                std::memcpy(&h, blk + 208, 2);
                const float d = fp16_to_fp32(h);
                float *y = out + b * 256;
                for (int n = 0; n < 256; n += 128) {
                    for (int l = 0; l < 32; l++) {
                        const int is = l / 16;
                        const int q1 = (int)((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
                        const int q2 = (int)((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        y[l + 0] = d * sc[is + 0] * q1;
                        y[l + 32] = d * sc[is + 2] * q2;
                        y[l + 64] = d * sc[is + 4] * q3;
                        y[l + 96] = d * sc[is + 6] * q4;
                    }
                    y += 128;
                    ql += 64;
                    qh += 32;
                    sc += 8;
                }
            }
            break;
        case T_Q4_K:
        case T_Q5_K: {
            const bool q5 = type == T_Q5_K;
            for (int64_t b = 0; b < K / 256; b++) {
                const uint8_t *blk = p + b * bb;
                uint16_t h;
                std::memcpy(&h, blk, 2);
                const float d = fp16_to_fp32(h);
                std::memcpy(&h, blk + 2, 2);
                const float dmin = fp16_to_fp32(h);
                uint8_t q[256];
                k_unpack(blk, q5, q);
                for (int j = 0; j < 8; j++) {
                    int sc, m;
                    k_scale_min(j, blk + 4, &sc, &m);
                    const float d1 = d * (float)sc, m1 = dmin * (float)m;
                    for (int l = 0; l < 32; l++) out[b * 256 + 32 * j + l] = d1 * (float)q[32 * j + l] - m1;
                }
            }
            break;
        }
        default:
            fail(GLM_ERR_INTERNAL, "no dequantiser for type %d", type);
    }
}

} // namespace glm
