// The CUDA backend's K-quant weight layout, checked on the CPU (no GPU needed): random Q4_K, Q5_K
// and Q6_K rows are converted with cuda_layout.h (the functions the backend runs at upload) and
//  - dequantised with the per-element formulas its embedding kernel calls, which must equal the
//    CPU engine's dequantisation bit for bit;
//  - multiplied against Q8_K activations with the unit dot / super-block formulas its Q4_K/Q5_K
//    matmul kernel calls, in the CPU's summation order, which must equal the CPU scalar kernel
//    bit for bit (the GPU sums super-blocks in another order, so on the device it is close, not equal).
// A corrupted copy of each layout must be caught, so the comparisons are not vacuous.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common.h"
#include "cuda/cuda_layout.h"
#include "engine.h"
#include "kernels.h"

namespace L = glm_cuda::layout;

static int g_failures = 0;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                  \
            std::fprintf(stderr, __VA_ARGS__);                                                                         \
            std::fprintf(stderr, "\n");                                                                                \
            g_failures++;                                                                                              \
        }                                                                                                              \
    } while (0)

static int block_bytes(int32_t type) { return glm::type_info(type).bytes; }

// Rows of random blocks: every quant, scale and high-bit byte random; the f16 scales random but
// finite (a few of them negative, zero or subnormal); the last row all-ones bytes (largest quants,
// scales and mins) with d = dmin = 1.
static std::vector<uint8_t> random_rows(int32_t type, int64_t K, int64_t N, std::mt19937 &rng) {
    const int bb = block_bytes(type);
    const int64_t nb = K / 256;
    std::vector<uint8_t> w((size_t)(N * nb * bb));
    std::uniform_int_distribution<int> byte(0, 255);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    auto f16 = [&](int k) -> uint16_t {
        switch (k % 17) {
            case 3:
                return 0x0000; // zero
            case 7:
                return (uint16_t)(1 + byte(rng)); // subnormal
            default:
                return glm::fp32_to_fp16(nd(rng)); // normal, either sign
        }
    };
    for (size_t i = 0; i < w.size(); i++) w[i] = (uint8_t)byte(rng);
    for (int64_t r = 0; r < N; r++) {
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *blk = &w[(size_t)((r * nb + b) * bb)];
            if (r == N - 1) std::memset(blk, 0xFF, (size_t)bb);
            const uint16_t one = 0x3c00;
            if (type == glm::T_Q6_K) {
                const uint16_t d = r == N - 1 ? one : f16((int)(r * nb + b));
                std::memcpy(blk + 208, &d, 2);
            } else {
                const uint16_t d = r == N - 1 ? one : f16((int)(r * nb + b)),
                               dm = r == N - 1 ? one : f16((int)(r * nb + b) + 5);
                std::memcpy(blk, &d, 2);
                std::memcpy(blk + 2, &dm, 2);
            }
        }
    }
    return w;
}

// The converted form of rows of one type.
struct Converted {
    std::vector<int8_t> q6, sc6;
    std::vector<uint8_t> q, sc, mn;
    std::vector<uint32_t> qh;
    std::vector<float> d, dmin;
};

static Converted convert(int32_t type, const std::vector<uint8_t> &w, int64_t K, int64_t N) {
    Converted c;
    const int64_t nb = K / 256, nu = K / 32;
    const size_t row_bytes = (size_t)(nb * block_bytes(type));
    c.d.resize((size_t)(N * nb));
    if (type == glm::T_Q6_K) {
        c.q6.resize((size_t)(N * K));
        c.sc6.resize((size_t)(N * K / 16));
        for (int64_t r = 0; r < N; r++)
            L::q6k_convert_row(&w[r * row_bytes], K, &c.q6[r * K], &c.sc6[r * (K / 16)], &c.d[r * nb]);
    } else {
        const bool q5 = type == glm::T_Q5_K;
        c.q.resize((size_t)(N * K / 2));
        c.sc.resize((size_t)(N * nu));
        c.mn.resize((size_t)(N * nu));
        c.qh.resize(q5 ? (size_t)(N * nu) : 0);
        c.dmin.resize((size_t)(N * nb));
        for (int64_t r = 0; r < N; r++)
            L::kq_convert_row(&w[r * row_bytes], q5, K, &c.q[r * (K / 2)], q5 ? &c.qh[r * nu] : nullptr, &c.sc[r * nu],
                              &c.mn[r * nu], &c.d[r * nb], &c.dmin[r * nb]);
    }
    return c;
}

// Input i of row r, with the formula the CUDA embedding kernel uses.
static float device_value(int32_t type, const Converted &c, int64_t K, int64_t r, int64_t i) {
    const int64_t nb = K / 256, nu = K / 32;
    if (type == glm::T_Q6_K) return L::q6k_value(&c.q6[r * K], &c.sc6[r * (K / 16)], &c.d[r * nb], i);
    return L::kq_value(&c.q[r * (K / 2)], c.qh.empty() ? nullptr : &c.qh[r * nu], &c.sc[r * nu], &c.mn[r * nu],
                       &c.d[r * nb], &c.dmin[r * nb], i);
}

// Number of inputs whose device-formula value differs (in bits) from the CPU engine's.
static int64_t dequant_mismatches(int32_t type, const std::vector<uint8_t> &w, const Converted &c, int64_t K, int64_t N,
                                  bool report) {
    const size_t row_bytes = (size_t)(K / 256 * block_bytes(type));
    std::vector<float> ref((size_t)K);
    int64_t bad = 0;
    for (int64_t r = 0; r < N; r++) {
        glm::dequant_row_bytes(type, &w[r * row_bytes], K, ref.data());
        for (int64_t i = 0; i < K; i++) {
            const float v = device_value(type, c, K, r, i);
            if (std::memcmp(&v, &ref[(size_t)i], 4) != 0) {
                if (report && bad < 5)
                    std::fprintf(stderr, "  type %d row %lld input %lld: layout %.9g cpu %.9g\n", type, (long long)r,
                                 (long long)i, v, ref[(size_t)i]);
                bad++;
            }
        }
    }
    return bad;
}

// Q4_K/Q5_K row r times one Q8_K activation row, with the kernel's per-unit loads and integer
// terms (what each lane computes) summed per super-block and accumulated in the CPU's order.
static float device_dot(const Converted &c, int64_t K, int64_t r, const uint8_t *x) {
    const int64_t nb = K / 256, nu = K / 32;
    const float *xd = reinterpret_cast<const float *>(x);
    const int8_t *xq = reinterpret_cast<const int8_t *>(x + nb * 4);
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) { // the 8 lanes of a super-block, then their integer sum
            const int64_t u = b * 8 + j;
            const L::KqUnit k =
                L::kq_load_unit(&c.q[(size_t)(r * (K / 2))], c.qh.empty() ? nullptr : &c.qh[(size_t)(r * nu)],
                                &c.sc[(size_t)(r * nu)], &c.mn[(size_t)(r * nu)], u);
            int is, ms;
            L::kq_unit_sums(k, xq, u, &is, &ms);
            isum += is;
            msum += ms;
        }
        acc = L::kq_accumulate(acc, c.d[(size_t)(r * nb + b)], c.dmin[(size_t)(r * nb + b)], xd[b], isum, msum);
    }
    return acc;
}

static int64_t matmul_mismatches(int32_t type, const std::vector<uint8_t> &w, const Converted &c, int64_t K, int64_t N,
                                 const std::vector<uint8_t> &xa, size_t xs, int64_t NX, bool report) {
    const int32_t kind = glm::weight_kind(type);
    std::vector<float> ref((size_t)(NX * N));
    glm::MatmulArgs a{w.data(), (size_t)(K / 256 * block_bytes(type)), K, xa.data(), xs, NX, ref.data(), (size_t)N};
    glm::kernels_scalar().matmul[kind](a, 0, N);
    int64_t bad = 0;
    for (int64_t o = 0; o < N; o++) {
        for (int64_t t = 0; t < NX; t++) {
            const float v = device_dot(c, K, o, &xa[(size_t)t * xs]);
            const float e = ref[(size_t)(t * N + o)];
            if (std::memcmp(&v, &e, 4) != 0) {
                if (report && bad < 5)
                    std::fprintf(stderr, "  type %d row %lld token %lld: layout %.9g cpu %.9g\n", type, (long long)o,
                                 (long long)t, v, e);
                bad++;
            }
        }
    }
    return bad;
}

int main() {
    std::mt19937 rng(1234);
    const int64_t K = 1024, N = 9, NX = 5;
    // Q8_K activations (K/256 scales, K int8, K/16 group sums): normal values, one all-zero row and
    // one row with a large outlier per block (quants of both signs at the ends of their range).
    const size_t xs = glm::act_row_bytes(glm::ACT_Q8_K, K);
    std::vector<uint8_t> xa(xs * NX);
    {
        std::normal_distribution<float> nd(0.0f, 1.0f);
        std::vector<float> xf((size_t)K);
        for (int64_t t = 0; t < NX; t++) {
            for (int64_t i = 0; i < K; i++) xf[(size_t)i] = t == 1 ? 0.0f : nd(rng);
            if (t == 2)
                for (int64_t b = 0; b < K / 256; b++) xf[(size_t)(b * 256 + 7)] = b % 2 ? 40.0f : -40.0f;
            glm::quantize_act(glm::ACT_Q8_K, xf.data(), &xa[(size_t)t * xs], K);
        }
    }
    const struct {
        int32_t type;
        const char *name;
    } types[] = {{glm::T_Q4_K, "q4_k"}, {glm::T_Q5_K, "q5_k"}, {glm::T_Q6_K, "q6_k"}};
    for (const auto &ty : types) {
        const std::vector<uint8_t> w = random_rows(ty.type, K, N, rng);
        Converted c = convert(ty.type, w, K, N);
        const int64_t bad = dequant_mismatches(ty.type, w, c, K, N, true);
        CHECK(bad == 0, "%s: %lld of %lld dequantised values differ from the CPU engine's", ty.name, (long long)bad,
              (long long)(K * N));
        std::printf("%s: layout dequantisation vs CPU engine: %lld / %lld differ\n", ty.name, (long long)bad,
                    (long long)(K * N));
        if (ty.type != glm::T_Q6_K) {
            const int64_t mbad = matmul_mismatches(ty.type, w, c, K, N, xa, xs, NX, true);
            CHECK(mbad == 0, "%s: %lld of %lld dot products differ from the CPU scalar kernel", ty.name,
                  (long long)mbad, (long long)(N * NX));
            std::printf("%s: layout unit dots vs CPU scalar matmul: %lld / %lld differ\n", ty.name, (long long)mbad,
                        (long long)(N * NX));
        }
        // Negative controls: a flipped quant bit and swapped scale/min arrays must be caught.
        {
            Converted bad_c = c;
            // (in the all-ones row, whose scales are all non-zero)
            if (ty.type == glm::T_Q6_K) {
                bad_c.q6[(size_t)((N - 1) * K + 37)] ^= 1;
            } else if (ty.type == glm::T_Q5_K) {
                bad_c.qh[(size_t)((N - 1) * (K / 32) + 3)] ^= 1u << 20;
            } else {
                bad_c.q[(size_t)((N - 1) * (K / 2) + 21)] ^= 0x10;
            }
            CHECK(dequant_mismatches(ty.type, w, bad_c, K, N, false) > 0, "%s: a corrupted quant went unnoticed",
                  ty.name);
            if (ty.type != glm::T_Q6_K) {
                CHECK(matmul_mismatches(ty.type, w, bad_c, K, N, xa, xs, NX, false) > 0,
                      "%s: a corrupted quant went unnoticed by the dot check", ty.name);
                Converted swapped = c;
                std::swap(swapped.sc, swapped.mn);
                CHECK(dequant_mismatches(ty.type, w, swapped, K, N, false) > 0,
                      "%s: swapped scales and mins went unnoticed", ty.name);
                CHECK(matmul_mismatches(ty.type, w, swapped, K, N, xa, xs, NX, false) > 0,
                      "%s: swapped scales and mins went unnoticed by the dot check", ty.name);
            }
        }
    }
    // The device-side integer helpers on hand-made operands: all-15 nibbles with all fifth bits set
    // is 31 everywhere; activations 1..32 give 31 * 528; a single set high bit adds 16 * its input.
    {
        int wq[4], av[8];
        std::memset(wq, 0xFF, 16);
        int8_t a8[32];
        for (int i = 0; i < 32; i++) a8[i] = (int8_t)(i + 1);
        std::memcpy(av, a8, 32);
        CHECK(L::kq_unit_dot(wq, 0xFFFFFFFFu, av) == 31 * 528, "all-31 unit dot %d",
              L::kq_unit_dot(wq, 0xFFFFFFFFu, av));
        CHECK(L::kq_unit_asum(av) == 528, "unit activation sum %d", L::kq_unit_asum(av));
        std::memset(wq, 0, 16);
        for (int i = 0; i < 32; i++)
            CHECK(L::kq_unit_dot(wq, 1u << i, av) == 16 * (i + 1), "fifth bit %d: %d", i,
                  L::kq_unit_dot(wq, 1u << i, av));
        for (int i = 0; i < 32; i++) a8[i] = -127;
        std::memcpy(av, a8, 32);
        CHECK(L::dp4((int)0x7F7F7F7F, av[0], 5) == 5 - 4 * 127 * 127, "dp4 signed bytes");
    }
    // The header's half conversion against the engine's, over every finite half.
    {
        int64_t bad = 0;
        for (uint32_t h = 0; h < 0x10000; h++) {
            if ((h & 0x7c00) == 0x7c00) continue;
            const float a = L::half_to_float((uint16_t)h), b = glm::fp16_to_fp32((uint16_t)h);
            bad += std::memcmp(&a, &b, 4) != 0;
        }
        CHECK(bad == 0, "half_to_float differs from fp16_to_fp32 on %lld halves", (long long)bad);
    }
    if (g_failures) {
        std::printf("%d check(s) failed\n", g_failures);
        return 1;
    }
    std::printf("all CUDA layout checks passed\n");
    return 0;
}
