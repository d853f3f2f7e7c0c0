// glm-devcheck: drives the public C API on any device for golden comparison, batch invariance and
// speed. Used by the GPU check script (the JVM is not needed on the GPU machine).
//
//   glm-devcheck golden MODEL DEVICE KV(f16|f32) PROMPTS_FILE MODE(single|batched) N_GEN
//       PROMPTS_FILE: one prompt per line, space-separated token ids. Prints one JSON object per
//       prompt: {"top20":[[id,logit],...],"greedy":[...],"top5":[[[id,logit],...],...]}
//   glm-devcheck invariance MODEL DEVICE THREADS
//   glm-devcheck bench MODEL DEVICE THREADS
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "glm.h"

#ifdef GLM_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace {

[[noreturn]] void die(const std::string &what) {
    fprintf(stderr, "glm-devcheck: %s: %s\n", what.c_str(), glm_last_error());
    exit(1);
}

struct Runner {
    glm_model *model = nullptr;
    glm_context *ctx = nullptr;
    glm_model_hparams hp{};
    int bs = 16;
    int max_blocks_per_seq = 0;
    std::vector<float> logits;

    Runner(const char *path, const char *device, int kv_type, int threads, int n_seqs, int max_ctx, int max_tokens) {
        glm_model_params mp = glm_model_default_params();
        if (glm_model_load(path, &mp, &model) != GLM_OK) die("load");
        if (glm_model_get_hparams(model, &hp) != GLM_OK) die("hparams");
        glm_context_params cp = glm_context_default_params();
        cp.device = device;
        cp.n_threads = threads;
        cp.kv_block_size = bs;
        cp.kv_type = kv_type;
        max_blocks_per_seq = (max_ctx + bs - 1) / bs;
        cp.n_kv_blocks = max_blocks_per_seq * n_seqs;
        cp.max_batch_tokens = max_tokens;
        cp.max_batch_seqs = n_seqs;
        if (glm_context_create(model, &cp, &ctx) != GLM_OK) die("context");
        logits.resize((size_t)max_tokens * hp.n_vocab);
    }
    ~Runner() {
        glm_context_free(ctx);
        glm_model_free(model);
    }

    // One step. rows: (seq, token, pos); logits for rows listed in want. Sequence s owns blocks
    // [s*max_blocks_per_seq, (s+1)*max_blocks_per_seq).
    const float *step(const std::vector<int> &seqs_in_batch, const std::vector<std::array<int, 3>> &rows,
                      const std::vector<int> &want) {
        std::vector<int32_t> ids, sidx, pos, slots, off, tables, lr(want.begin(), want.end());
        off.push_back(0);
        for (int s : seqs_in_batch) {
            for (int b = 0; b < max_blocks_per_seq; b++) tables.push_back(s * max_blocks_per_seq + b);
            off.push_back((int32_t)tables.size());
        }
        for (auto &r : rows) {
            int si = (int)(std::find(seqs_in_batch.begin(), seqs_in_batch.end(), r[0]) - seqs_in_batch.begin());
            ids.push_back(r[1]);
            sidx.push_back(si);
            pos.push_back(r[2]);
            slots.push_back((r[0] * max_blocks_per_seq + r[2] / bs) * bs + r[2] % bs);
        }
        glm_batch b{};
        b.n_tokens = (int32_t)rows.size();
        b.token_ids = ids.data();
        b.seq_idx = sidx.data();
        b.positions = pos.data();
        b.slot_mapping = slots.data();
        b.n_seqs = (int32_t)seqs_in_batch.size();
        b.block_table_offsets = off.data();
        b.block_tables = tables.data();
        b.n_logits = (int32_t)lr.size();
        b.logit_rows = lr.data();
        if (glm_forward(ctx, &b, logits.data()) != GLM_OK) die("forward");
        return logits.data();
    }
};

int argmax(const float *l, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[best]) best = i;
    return best;
}

std::string topk_json(const float *l, int n, int k) {
    std::vector<int> idx(n);
    for (int i = 0; i < n; i++) idx[i] = i;
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    std::ostringstream o;
    o << "[";
    for (int i = 0; i < k; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s[%d,%.9g]", i ? "," : "", idx[i], l[idx[i]]);
        o << buf;
    }
    o << "]";
    return o.str();
}

std::vector<std::vector<int>> read_prompts(const char *path) {
    std::ifstream in(path);
    std::vector<std::vector<int>> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        std::vector<int> p;
        int v;
        while (ss >> v) p.push_back(v);
        if (!p.empty()) out.push_back(p);
    }
    return out;
}

int cmd_golden(int argc, char **argv) {
    const char *path = argv[2];
    const char *device = argv[3];
    const int kv = strcmp(argv[4], "f32") == 0 ? GLM_KV_F32 : GLM_KV_F16;
    auto prompts = read_prompts(argv[5]);
    const bool batched = strcmp(argv[6], "batched") == 0;
    const int n_gen = atoi(argv[7]);
    int max_len = 0;
    for (auto &p : prompts) max_len = std::max<int>(max_len, (int)p.size());
    int total = 0;
    for (auto &p : prompts) total += (int)p.size();
    Runner r(path, device, kv, 2, (int)prompts.size(), max_len + n_gen + 1, std::max(total, 64));
    const int V = r.hp.n_vocab;
    const int S = (int)prompts.size();
    std::vector<std::string> top20(S);
    std::vector<std::vector<int>> greedy(S);
    std::vector<std::vector<std::string>> top5(S);
    std::vector<int> next(S);
    std::vector<std::string> last(S);
    auto run_group = [&](std::vector<int> group) {
        std::vector<std::array<int, 3>> rows;
        std::vector<int> want;
        for (int s : group) {
            for (size_t i = 0; i < prompts[s].size(); i++) rows.push_back({s, prompts[s][i], (int)i});
            want.push_back((int)rows.size() - 1);
        }
        const float *l = r.step(group, rows, want);
        for (size_t g = 0; g < group.size(); g++) {
            const int s = group[g];
            top20[s] = topk_json(l + g * V, V, 20);
            {
                std::ostringstream o;
                o << "[";
                for (int i = 0; i < V; i++) {
                    char buf[32];
                    snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", l[g * V + i]);
                    o << buf;
                }
                o << "]";
                last[s] = o.str();
            }
            top5[s].push_back(topk_json(l + g * V, V, 5));
            next[s] = argmax(l + g * V, V);
            greedy[s].push_back(next[s]);
        }
        for (int k = 1; k < n_gen; k++) {
            rows.clear();
            want.clear();
            for (int s : group) {
                rows.push_back({s, next[s], (int)prompts[s].size() + k - 1});
                want.push_back((int)rows.size() - 1);
            }
            l = r.step(group, rows, want);
            for (size_t g = 0; g < group.size(); g++) {
                const int s = group[g];
                top5[s].push_back(topk_json(l + g * V, V, 5));
                next[s] = argmax(l + g * V, V);
                greedy[s].push_back(next[s]);
            }
        }
    };
    if (batched) {
        std::vector<int> all;
        for (int s = 0; s < S; s++) all.push_back(s);
        run_group(all);
    } else {
        for (int s = 0; s < S; s++) run_group({s});
    }
    for (int s = 0; s < S; s++) {
        printf("{\"top20\":%s,\"last\":%s,\"greedy\":[", top20[s].c_str(), last[s].c_str());
        for (size_t i = 0; i < greedy[s].size(); i++) printf("%s%d", i ? "," : "", greedy[s][i]);
        printf("],\"top5\":[");
        for (size_t i = 0; i < top5[s].size(); i++) printf("%s%s", i ? "," : "", top5[s][i].c_str());
        printf("]}\n");
    }
    return 0;
}

// A target sequence alone, then the same target among 16 others at other positions: the
// target's logits must be bit-identical at every step.
int cmd_invariance(int argc, char **argv) {
    const char *path = argv[2];
    const char *device = argv[3];
    const int threads = atoi(argv[4]);
    const int n_other = 16, steps = 6;
    std::mt19937 rng(42);
    Runner r(path, device, GLM_KV_F16, threads, n_other + 1, 512, 4096);
    const int V = r.hp.n_vocab;
    std::vector<int> target(37);
    for (auto &t : target) t = (int)(rng() % (unsigned)std::min(V, 1400));
    auto run_target = [&](bool crowded) {
        std::vector<float> seen;
        std::vector<int> group = {0};
        std::vector<std::array<int, 3>> rows;
        std::vector<int> other_len(n_other + 1, 0);
        if (crowded) {
            // others first get prompts of different lengths, in their own step
            std::vector<int> og;
            std::vector<std::array<int, 3>> orows;
            for (int s = 1; s <= n_other; s++) {
                og.push_back(s);
                other_len[s] = 5 + (int)(rng() % 200);
                for (int i = 0; i < other_len[s]; i++) orows.push_back({s, (int)(rng() % 1000), i});
            }
            r.step(og, orows, {(int)orows.size() - 1});
            for (int s = 1; s <= n_other; s++) group.push_back(s);
        }
        int tok = 0;
        for (int k = 0; k < steps; k++) {
            rows.clear();
            std::vector<int> want;
            if (k == 0) {
                for (size_t i = 0; i < target.size(); i++) rows.push_back({0, target[i], (int)i});
            } else {
                rows.push_back({0, tok, (int)target.size() + k - 1});
            }
            want.push_back((int)rows.size() - 1);
            if (crowded) {
                for (int s = 1; s <= n_other; s++) {
                    rows.push_back({s, (int)(rng() % 1000), other_len[s]++});
                    want.push_back((int)rows.size() - 1);
                }
            }
            const float *l = r.step(group, rows, want);
            seen.insert(seen.end(), l, l + V);
            tok = argmax(l, V);
        }
        return seen;
    };
    auto alone = run_target(false);
    auto crowded = run_target(true);
    const bool same = memcmp(alone.data(), crowded.data(), alone.size() * sizeof(float)) == 0;
    double maxdiff = 0;
    for (size_t i = 0; i < alone.size(); i++) maxdiff = std::max(maxdiff, (double)std::fabs(alone[i] - crowded[i]));
    printf("{\"device\":\"%s\",\"threads\":%d,\"bit_identical\":%s,\"max_abs_diff\":%g}\n", device, threads,
           same ? "true" : "false", maxdiff);
    return same ? 0 : 3;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int cmd_bench(int argc, char **argv) {
    const char *path = argv[2];
    const char *device = argv[3];
    const int threads = atoi(argv[4]);
    const int prompt = 128, gen = 32;
    const int batches[] = {1, 4, 16};
    Runner r(path, device, GLM_KV_F16, threads, 16, prompt + gen + 16, 16 * prompt);
    std::mt19937 rng(1);
    auto prefill = [&](int s) {
        std::vector<std::array<int, 3>> rows;
        for (int i = 0; i < prompt; i++) rows.push_back({s, (int)(rng() % 1000), i});
        r.step({s}, rows, {prompt - 1});
    };
    // prefill: median of 5
    std::vector<double> pt;
    for (int rep = 0; rep < 6; rep++) {
        const double t0 = now_s();
        prefill(0);
        if (rep > 0) pt.push_back(now_s() - t0);
    }
    std::sort(pt.begin(), pt.end());
    printf("{\"device\":\"%s\",\"weight_bytes\":%lld,\"prefill_tok_s\":%.1f,\"decode\":[", device,
           (long long)r.hp.n_weight_bytes, prompt / pt[pt.size() / 2]);
    bool first = true;
    for (int B : batches) {
        std::vector<double> reps;
        for (int rep = 0; rep < 3; rep++) {
            std::vector<int> group;
            for (int s = 0; s < B; s++) {
                prefill(s);
                group.push_back(s);
            }
            const double t0 = now_s();
            for (int k = 0; k < gen; k++) {
                std::vector<std::array<int, 3>> rows;
                std::vector<int> want;
                for (int s = 0; s < B; s++) {
                    rows.push_back({s, (int)(rng() % 1000), prompt + k});
                    want.push_back(s);
                }
                r.step(group, rows, want);
            }
            reps.push_back(now_s() - t0);
        }
        std::sort(reps.begin(), reps.end());
        printf("%s{\"batch\":%d,\"tok_s\":%.1f}", first ? "" : ",", B, B * gen / reps[1]);
        first = false;
    }
    printf("]}\n");
    return 0;
}

// Device memory bandwidth: device-to-device copies of 1 GiB, bytes read plus written.
int cmd_bandwidth() {
#ifdef GLM_HAVE_CUDA
    const size_t n = 1ull << 30;
    void *a = nullptr, *b = nullptr;
    if (cudaMalloc(&a, n) != cudaSuccess || cudaMalloc(&b, n) != cudaSuccess) {
        fprintf(stderr, "glm-devcheck: cudaMalloc failed\n");
        return 1;
    }
    cudaMemset(a, 1, n);
    cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    cudaDeviceSynchronize();
    const int reps = 20;
    const double t0 = now_s();
    for (int i = 0; i < reps; i++) cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    cudaDeviceSynchronize();
    const double dt = now_s() - t0;
    printf("{\"d2d_copy_gb_s\":%.1f}\n", 2.0 * n * reps / dt / 1e9);
    cudaFree(a);
    cudaFree(b);
    return 0;
#else
    fprintf(stderr, "glm-devcheck: built without CUDA\n");
    return 1;
#endif
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: glm-devcheck golden|invariance|bench MODEL ...\n");
        return 2;
    }
    const std::string cmd = argv[1];
    if (cmd == "golden" && argc >= 8) return cmd_golden(argc, argv);
    if (cmd == "invariance" && argc >= 5) return cmd_invariance(argc, argv);
    if (cmd == "bench" && argc >= 5) return cmd_bench(argc, argv);
    if (cmd == "bandwidth") return cmd_bandwidth();
    fprintf(stderr, "glm-devcheck: bad arguments\n");
    return 2;
}
