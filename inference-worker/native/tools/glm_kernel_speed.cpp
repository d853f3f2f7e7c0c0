// glm-kernel-speed: how fast one thread runs a panel kernel at batch 1, counted per second of that
// thread's CPU time (so a loaded machine that deschedules the thread does not change the figure).
//
//   glm-kernel-speed [--path avx512|avx2] [--kinds q4_0,q8_0,q4_k,q6_k] [--ms 300]
//
// Per weight kind, two figures in GB of weights per CPU-second:
//   hot   a 256 x 2048 matrix (256 x 6912 for none) that stays in L2: the kernel's compute limit;
//   dram  a 64 MiB matrix streamed from memory, as batch-1 decode streams the model.
// Batch-1 decode cannot stream faster than `hot` on one core however fast the memory is; when `dram`
// is well below `hot` the kernel waits on memory, and when the two are close the kernel's
// instructions, not the memory, set the pace. Random weights and activations; values are not checked
// here (test_kernels does that).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <sys/mman.h>
#include <vector>

#include "ggml_types.h"
#include "kernels.h"

using namespace glm;

namespace {

double thread_cpu() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Kind {
    const char *name;
    int32_t ggml;
    int32_t kind;
};

// Random but valid raw blocks of `ggml` type: scales as small positive halves, the rest random bytes.
std::vector<uint8_t> random_rows(int32_t ggml, int64_t rows, int64_t K, size_t *row_bytes, std::mt19937 &rng) {
    const int32_t bs = type_info(ggml).block, ts = type_info(ggml).bytes;
    *row_bytes = (size_t)(K / bs) * ts;
    std::vector<uint8_t> w((size_t)rows * *row_bytes);
    for (auto &b : w) b = (uint8_t)rng();
    // Every fp16 field that a kernel reads as a scale: put a small normal half (0x2000 ~ 0.0078)
    // wherever the layout has one so no lane becomes Inf/NaN. Layouts: Q4_0/Q8_0 d at block start;
    // Q4_K d,dmin at 0,2; Q6_K d at the end (208).
    const size_t nblk = w.size() / ts;
    for (size_t i = 0; i < nblk; i++) {
        uint8_t *b = &w[i * ts];
        auto half = [&](size_t off) {
            b[off] = (uint8_t)(rng() & 0xff);
            b[off + 1] = 0x20;
        };
        if (ggml == T_Q4_0 || ggml == T_Q8_0) half(0);
        if (ggml == T_Q4_K || ggml == T_Q5_K) {
            half(0);
            half(2);
        }
        if (ggml == T_Q6_K) half(208);
    }
    return w;
}

} // namespace

int main(int argc, char **argv) {
    std::string path = cpu_has_avx512() ? "avx512" : "avx2", kinds = "q4_0,q8_0,q4_k,q6_k";
    double ms = 300;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--path" && i + 1 < argc)
            path = argv[++i];
        else if (a == "--kinds" && i + 1 < argc)
            kinds = argv[++i];
        else if (a == "--ms" && i + 1 < argc)
            ms = std::atof(argv[++i]);
        else {
            std::fprintf(stderr,
                         "usage: glm-kernel-speed [--path avx512|avx2] [--kinds q4_0,q8_0,q4_k,q6_k] [--ms N]\n");
            return 2;
        }
    }
    const KernelSet *ks = kernels_by_name(path.c_str());
    if (!ks || !ks->pack_bytes) {
        std::fprintf(stderr, "glm-kernel-speed: no panel kernels for path %s here\n", path.c_str());
        return 2;
    }
    const Kind all[] = {
        {"q4_0", T_Q4_0, W_Q4_0}, {"q8_0", T_Q8_0, W_Q8_0}, {"q4_k", T_Q4_K, W_Q4_K}, {"q6_k", T_Q6_K, W_Q6_K}};
    std::mt19937 rng(7);
    std::printf("path %s, one thread, GB of weights per CPU-second at batch 1\n", ks->name);
    for (const Kind &k : all) {
        if (kinds.find(k.name) == std::string::npos || !ks->packed_matmul[k.kind]) continue;
        const int64_t K = 2048;
        double res[2] = {0, 0};
        for (int dram = 0; dram < 2; dram++) {
            size_t rb = 0;
            const int64_t rows_hot = 256;
            // dram: about 64 MiB of weights
            const int64_t R =
                dram ? (int64_t)((64ll << 20) / ((int64_t)K / type_info(k.ggml).block * type_info(k.ggml).bytes)) / 16 *
                           16
                     : rows_hot;
            std::vector<uint8_t> raw = random_rows(k.ggml, R, K, &rb, rng);
            const size_t pb = ks->pack_bytes(k.kind, R, K);
            // 2 MiB-aligned and advised for transparent huge pages, as the engine packs its weights
            // (model.cpp): with 4 KiB pages the stream pays a TLB miss per page.
            const size_t huge = (size_t)2 << 20, alloc = (pb + huge - 1) / huge * huge;
            void *mem = nullptr;
            if (posix_memalign(&mem, huge, alloc) != 0) {
                std::fprintf(stderr, "glm-kernel-speed: out of memory\n");
                return 1;
            }
#ifdef MADV_HUGEPAGE
            madvise(mem, alloc, MADV_HUGEPAGE);
#endif
            std::unique_ptr<void, decltype(&std::free)> packed(mem, &std::free);
            uint8_t *pw = static_cast<uint8_t *>(mem);
            ks->pack(k.kind, raw.data(), rb, R, K, pw, 0, R / kPanelRows);
            raw.clear();
            raw.shrink_to_fit();
            const ActType at = ks->packed_act[k.kind];
            std::vector<float> xf(K);
            std::normal_distribution<float> nd(0, 1);
            for (auto &v : xf) v = nd(rng);
            std::vector<uint8_t> xa(act_row_bytes(at, K) + 64);
            quantize_act(at, xf.data(), xa.data(), K);
            std::vector<float> y(R);
            MatmulArgs a{
                pw, ks->pack_bytes(k.kind, kPanelRows, K), K, xa.data(), act_row_bytes(at, K), 1, y.data(), (size_t)R,
                R};
            ks->packed_matmul[k.kind](a, 0, R); // warm (page faults; L2 for hot)
            const double weight_bytes = (double)R * rb;
            double best = 0, spent = 0;
            while (spent < ms / 1e3) {
                const double t0 = thread_cpu();
                ks->packed_matmul[k.kind](a, 0, R);
                const double dt = thread_cpu() - t0;
                spent += dt;
                if (dt > 0) best = std::max(best, weight_bytes / dt);
            }
            res[dram] = best / 1e9;
        }
        std::printf("%-5s hot %6.1f GB/s   dram %6.1f GB/s\n", k.name, res[0], res[1]);
    }
    return 0;
}
