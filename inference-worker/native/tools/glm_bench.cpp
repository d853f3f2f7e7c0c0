// glm-bench: prefill and decode throughput of the engine through the public C API.
//
//   glm-bench --model FILE [--threads 2] [--prompt 128] [--gen 32] [--batch 1,4,16] [--reps 3]
//             [--kv f16|f32] [--triad-mib N] [--profile] [--json]
//
// Prefill: one sequence of --prompt tokens in one glm_forward call (median of --reps).
// Decode at batch B: B sequences that share the prefilled --prompt-token prefix through their block
// tables (real KV, 128-token context each), then --gen steps of one token per sequence in one
// glm_forward call each; aggregate tok/s = B * gen / time (median of --reps).
// Each figure is given by wall clock and per CPU time (tokens * threads / process CPU seconds):
// the second is what the engine does when its threads own their cores.
// --triad-mib N (default 0: off) measures the bandwidth bound with glm_context_triad on the same
// threads (arrays of N MiB, best of a pass before and a pass right after batch-1 decode) and prints
// the batch-1 bound (weight bytes streamed per token, token_embd excluded) and the fraction reached.
// --profile splits batch-1 decode into glm_forward's phases (ms per token).
// --paired N (needs --triad-mib) measures the fraction a second way, for machines whose bandwidth
// drifts within seconds (a shared VM: back-to-back triads there differ by up to 40 %): N batch-1
// decode steps, each between two glm_context_triad passes of min(N, 64) MiB arrays; per step, the
// rate reached over the bound from the mean of its two neighbouring passes; the median and the
// quartiles of those N ratios, and the median against the faster neighbour alone (stricter); with
// --json also every step's (bandwidth, fraction), to see how the fraction moves with the bandwidth.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "glm.h"

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// CPU seconds of the whole process (all threads): on a shared, overloaded machine wall time
// mostly measures the queue for the cores; CPU time shows what the engine itself costs.
double cpu_now() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
    std::string model;
    int threads = 2, prompt = 128, gen = 32, reps = 3;
    std::vector<int> batches{1, 4, 16};
    bool json = false, profile = false;
    int triad_mib = 0, paired = 0;
    int kv_type = GLM_KV_F16;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> const char * {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--model")
            model = next();
        else if (a == "--threads")
            threads = std::atoi(next());
        else if (a == "--prompt")
            prompt = std::atoi(next());
        else if (a == "--gen")
            gen = std::atoi(next());
        else if (a == "--reps")
            reps = std::atoi(next());
        else if (a == "--json")
            json = true;
        else if (a == "--profile")
            profile = true;
        else if (a == "--triad-mib")
            triad_mib = std::atoi(next());
        else if (a == "--paired")
            paired = std::atoi(next());
        else if (a == "--kv")
            kv_type = std::strcmp(next(), "f32") == 0 ? GLM_KV_F32 : GLM_KV_F16;
        else if (a == "--batch") {
            batches.clear();
            std::string s = next();
            size_t p = 0;
            while (p < s.size()) {
                size_t q = s.find(',', p);
                if (q == std::string::npos) q = s.size();
                batches.push_back(std::atoi(s.substr(p, q - p).c_str()));
                p = q + 1;
            }
        } else {
            std::fprintf(stderr, "usage: glm-bench --model FILE [--threads N] [--prompt N] [--gen N] [--batch 1,4,16] "
                                 "[--reps N] [--kv f16|f32] [--triad-mib N] [--paired N] [--profile] [--json]\n");
            return 2;
        }
    }
    if (model.empty() || prompt < 1 || gen < 1 || reps < 1 || threads < 1) {
        std::fprintf(stderr, "glm-bench: --model is required; counts must be >= 1\n");
        return 2;
    }
    glm_model *m = nullptr;
    if (glm_model_load(model.c_str(), nullptr, &m) != GLM_OK) {
        std::fprintf(stderr, "glm-bench: %s\n", glm_last_error());
        return 1;
    }
    glm_model_hparams hp;
    glm_model_get_hparams(m, &hp);
    const int bs = 16, nv = hp.n_vocab;
    const int maxb = *std::max_element(batches.begin(), batches.end());
    const int prefix_blocks = (prompt + bs - 1) / bs;
    const int gen_blocks = (gen + bs - 1) / bs + 1;
    glm_context_params cp = glm_context_default_params();
    cp.n_threads = threads;
    cp.kv_block_size = bs;
    cp.kv_type = kv_type;
    cp.n_kv_blocks = prefix_blocks + maxb * gen_blocks + 1;
    cp.max_batch_tokens = std::max(prompt, maxb);
    glm_context *c = nullptr;
    if (glm_context_create(m, &cp, &c) != GLM_OK) {
        std::fprintf(stderr, "glm-bench: %s\n", glm_last_error());
        return 1;
    }
    if (!json)
        std::printf("%s\nmodel %s: %s, %d layers, n_embd %d, %.2f GB of weights; %d threads\n", glm_system_info(),
                    model.c_str(), hp.architecture, hp.n_layer, hp.n_embd, hp.n_weight_bytes / 1e9, threads);

    // Prefill of the shared prefix (blocks 0..prefix_blocks-1).
    std::vector<int32_t> ids(prompt), seq(prompt, 0), pos(prompt), slot(prompt), table(prefix_blocks);
    for (int i = 0; i < prompt; i++) {
        ids[i] = (int32_t)((i * 7919 + 13) % nv);
        pos[i] = i;
        slot[i] = i;
    }
    for (int b = 0; b < prefix_blocks; b++) table[b] = b;
    int32_t offs[2] = {0, prefix_blocks}, lrow = prompt - 1;
    std::vector<float> logits((size_t)maxb * nv);
    std::vector<double> pre_t, pre_c;
    for (int r = 0; r < reps; r++) {
        glm_batch b{prompt, ids.data(), seq.data(), pos.data(), slot.data(), 1, offs, table.data(), 1, &lrow};
        const double t0 = now(), c0 = cpu_now();
        if (glm_forward(c, &b, logits.data()) != GLM_OK) {
            std::fprintf(stderr, "glm-bench: %s\n", glm_last_error());
            return 1;
        }
        pre_t.push_back(now() - t0);
        pre_c.push_back((cpu_now() - c0) / threads);
    }
    const double prefill_tok_s = prompt / median(pre_t), prefill_cpu = prompt / median(pre_c);
    if (!json)
        std::printf("prefill %d tokens: %.1f tok/s wall, %.1f tok/s per CPU-time (median of %d)\n", prompt,
                    prefill_tok_s, prefill_cpu, reps);

    double triad = 0;
    auto run_triad = [&] {
        double bw = 0;
        if (triad_mib > 0 && glm_context_triad(c, (int64_t)triad_mib << 20, 3, &bw) == GLM_OK)
            triad = std::max(triad, bw);
    };
    run_triad();
    double prof[GLM_PROF_COUNT] = {0};
    std::vector<std::pair<int, double>> dec;
    std::vector<double> dec_cpu;
    for (int B : batches) {
        // Sequence s: prefix blocks shared, then its own blocks for the generated tokens.
        std::vector<int32_t> tabs, toffs{0};
        for (int s = 0; s < B; s++) {
            for (int b = 0; b < prefix_blocks; b++) tabs.push_back(b);
            for (int b = 0; b < gen_blocks; b++) tabs.push_back(prefix_blocks + s * gen_blocks + b);
            toffs.push_back((int32_t)tabs.size());
        }
        std::vector<double> times, ctimes;
        if (profile && B == 1) glm_context_profile(c, 1, 0, nullptr);
        for (int r = 0; r < reps; r++) {
            std::vector<int32_t> tok(B, ids[prompt - 1]), sq(B), ps(B), sl(B), lr(B);
            for (int s = 0; s < B; s++) {
                sq[s] = s;
                lr[s] = s;
            }
            const double t0 = now(), c0 = cpu_now();
            for (int g = 0; g < gen; g++) {
                const int p = prompt + g;
                for (int s = 0; s < B; s++) {
                    ps[s] = p;
                    sl[s] = tabs[toffs[s] + p / bs] * bs + p % bs;
                }
                glm_batch b{B, tok.data(), sq.data(), ps.data(), sl.data(), B, toffs.data(), tabs.data(), B, lr.data()};
                if (glm_forward(c, &b, logits.data()) != GLM_OK) {
                    std::fprintf(stderr, "glm-bench: %s\n", glm_last_error());
                    return 1;
                }
                for (int s = 0; s < B; s++) {
                    const float *l = logits.data() + (size_t)s * nv;
                    tok[s] = (int32_t)(std::max_element(l, l + nv) - l);
                }
            }
            times.push_back(now() - t0);
            ctimes.push_back((cpu_now() - c0) / threads);
        }
        if (profile && B == 1) {
            glm_context_profile(c, 0, GLM_PROF_COUNT, prof);
            for (double &p : prof) p = p * 1e3 / ((double)gen * reps);
        }
        if (B == 1) run_triad();
        const double tps = (double)B * gen / median(times), cps = (double)B * gen / median(ctimes);
        dec.push_back({B, tps});
        dec_cpu.push_back(cps);
        if (!json)
            std::printf("decode batch %2d: %.1f tok/s aggregate wall, %.1f per CPU-time (%d steps, median of %d)\n", B,
                        tps, cps, gen, reps);
    }
    // Bytes streamed per batch-1 token: every weight except the token embedding (one row is read).
    // Per profile phase, the weight bytes it streams (dense products only: a file with routed
    // experts streams a data-dependent share of them, so it gets no per-phase rate).
    double embd_bytes = 0, phase_bytes[GLM_PROF_COUNT] = {0};
    bool experts = false;
    for (int64_t i = 0; i < glm_tensor_count(m); i++) {
        const char *name;
        int32_t type, nd, bsz, tsz;
        int64_t ne[4];
        if (glm_tensor_info(m, i, &name, &type, &nd, ne) != GLM_OK ||
            glm_type_info(type, nullptr, &bsz, &tsz, nullptr) != GLM_OK)
            continue;
        const double bytes = (double)ne[0] * (nd > 1 ? ne[1] : 1) / bsz * tsz;
        const std::string n = name;
        auto ends = [&](const char *suffix) {
            const size_t k = std::strlen(suffix);
            return n.size() >= k && n.compare(n.size() - k, k, suffix) == 0;
        };
        experts |= n.find("_exps.") != std::string::npos;
        if (n == "token_embd.weight") embd_bytes = bytes;
        if (n == "output.weight") phase_bytes[GLM_PROF_OUTPUT] += bytes;
        if (ends(".attn_q.weight") || ends(".attn_k.weight") || ends(".attn_v.weight") || ends(".attn_qkv.weight"))
            phase_bytes[GLM_PROF_QKV] += bytes;
        if (ends(".attn_output.weight")) phase_bytes[GLM_PROF_WO] += bytes;
        if (ends(".ffn_up.weight") || ends(".ffn_gate.weight")) phase_bytes[GLM_PROF_FFN_UP] += bytes;
        if (ends(".ffn_down.weight")) phase_bytes[GLM_PROF_FFN_DOWN] += bytes;
    }
    // A tied head reads token_embd as the output matrix.
    if (phase_bytes[GLM_PROF_OUTPUT] == 0) phase_bytes[GLM_PROF_OUTPUT] = embd_bytes;
    if (experts) std::fill(phase_bytes, phase_bytes + GLM_PROF_COUNT, 0.0);
    auto phase_gb_s = [&](int i) { return phase_bytes[i] > 0 && prof[i] > 0 ? phase_bytes[i] / (prof[i] * 1e6) : 0.0; };
    const double tok_bytes = (double)hp.n_weight_bytes - embd_bytes;
    double b1 = 0;
    for (auto &d : dec)
        if (d.first == 1) b1 = d.second;
    // --paired: each batch-1 step between two triad passes; per-step ratios to the local bound.
    std::vector<double> ratios, ratios_max, local_bw;
    std::vector<std::pair<double, double>> samples; // (local bandwidth, fraction) per step, in order
    if (paired > 0 && triad_mib > 0 && b1 > 0) {
        const int64_t mib64 = (int64_t)std::min(triad_mib, 64) << 20;
        auto triad_pass = [&] {
            double bw = 0;
            glm_context_triad(c, mib64, 1, &bw); // the first call also faults the arrays in, untimed
            return bw;
        };
        std::vector<int32_t> tabs;
        for (int b = 0; b < prefix_blocks + gen_blocks; b++) tabs.push_back(b);
        int32_t toffs[2] = {0, (int32_t)tabs.size()}, sq = 0, lr = 0, tok = ids[prompt - 1];
        double before = triad_pass();
        for (int i = 0; i < paired; i++) {
            int32_t p = prompt + i % gen, sl = tabs[p / bs] * bs + p % bs;
            glm_batch b{1, &tok, &sq, &p, &sl, 1, toffs, tabs.data(), 1, &lr};
            const double t0 = now();
            if (glm_forward(c, &b, logits.data()) != GLM_OK) {
                std::fprintf(stderr, "glm-bench: %s\n", glm_last_error());
                return 1;
            }
            const double dt = now() - t0;
            const double after = triad_pass();
            const double bw = (before + after) / 2;
            local_bw.push_back(bw);
            ratios.push_back((1.0 / dt) / (bw / tok_bytes));
            samples.push_back({bw, ratios.back()});
            ratios_max.push_back((1.0 / dt) / (std::max(before, after) / tok_bytes));
            before = after;
        }
        std::sort(ratios.begin(), ratios.end());
    }
    const double frac_max = ratios_max.empty() ? 0 : median(ratios_max);
    auto quart = [&](int q) { return ratios[(ratios.size() - 1) * q / 4]; };
    static const char *const kPhase[GLM_PROF_COUNT] = {"embed", "norm",   "qkv",  "rope",     "attn",
                                                       "wo",    "ffn_up", "silu", "ffn_down", "output"};
    if (!json && triad > 0)
        std::printf("triad %.2f GB/s; %.1f MB per token; batch-1 bound %.1f tok/s; reached %.1f %%\n", triad / 1e9,
                    tok_bytes / 1e6, triad / tok_bytes, b1 > 0 ? 100.0 * b1 / (triad / tok_bytes) : 0.0);
    if (!json && !ratios.empty())
        std::printf("paired (%zu steps, each between two triad passes): median local triad %.2f GB/s; fraction "
                    "median %.1f %% (quartiles %.1f-%.1f %%); against the faster neighbour %.1f %%\n",
                    ratios.size(), median(local_bw) / 1e9, 100 * quart(2), 100 * quart(1), 100 * quart(3),
                    100 * frac_max);
    if (!json && profile) {
        double tot = 0;
        for (double p : prof) tot += p;
        for (int i = 0; i < GLM_PROF_COUNT; i++)
            if (phase_gb_s(i) > 0)
                std::printf("  %-9s %7.3f ms/token (%4.1f %%)  %6.1f MB at %5.1f GB/s\n", kPhase[i], prof[i],
                            tot > 0 ? 100 * prof[i] / tot : 0.0, phase_bytes[i] / 1e6, phase_gb_s(i));
            else
                std::printf("  %-9s %7.3f ms/token (%4.1f %%)\n", kPhase[i], prof[i],
                            tot > 0 ? 100 * prof[i] / tot : 0.0);
        std::printf("  total     %7.3f ms/token\n", tot);
    }
    if (json) {
        std::printf("{\"prefill_tok_s\":%.2f,\"prefill_tok_s_cpu\":%.2f,\"decode\":[", prefill_tok_s, prefill_cpu);
        for (size_t i = 0; i < dec.size(); i++)
            std::printf("%s{\"batch\":%d,\"tok_s\":%.2f,\"tok_s_cpu\":%.2f}", i ? "," : "", dec[i].first, dec[i].second,
                        dec_cpu[i]);
        std::printf("]");
        if (triad > 0)
            std::printf(",\"triad_gb_s\":%.3f,\"mb_per_token\":%.2f,\"bound_tok_s\":%.2f,\"fraction\":%.4f",
                        triad / 1e9, tok_bytes / 1e6, triad / tok_bytes, b1 > 0 ? b1 / (triad / tok_bytes) : 0.0);
        if (!ratios.empty())
            std::printf(",\"paired\":{\"steps\":%zu,\"triad_gb_s\":%.3f,\"fraction\":%.4f,\"q1\":%.4f,\"q3\":%.4f,"
                        "\"fraction_vs_faster\":%.4f}",
                        ratios.size(), median(local_bw) / 1e9, quart(2), quart(1), quart(3), frac_max);
        if (!samples.empty()) {
            // every step, for binning by the moment's bandwidth: [[GB/s, fraction], ...]
            std::printf(",\"paired_samples\":[");
            for (size_t i = 0; i < samples.size(); i++)
                std::printf("%s[%.2f,%.4f]", i ? "," : "", samples[i].first / 1e9, samples[i].second);
            std::printf("]");
        }
        if (profile) {
            std::printf(",\"profile_ms_per_token\":{");
            for (int i = 0; i < GLM_PROF_COUNT; i++) std::printf("%s\"%s\":%.4f", i ? "," : "", kPhase[i], prof[i]);
            std::printf("},\"profile_gb_s\":{");
            bool first = true;
            for (int i = 0; i < GLM_PROF_COUNT; i++)
                if (phase_gb_s(i) > 0) {
                    std::printf("%s\"%s\":%.2f", first ? "" : ",", kPhase[i], phase_gb_s(i));
                    first = false;
                }
            std::printf("}");
        }
        std::printf("}\n");
    }
    glm_context_free(c);
    glm_model_free(m);
    return 0;
}
