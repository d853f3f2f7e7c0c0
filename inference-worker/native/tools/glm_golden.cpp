// glm-golden: runs the reference prompts of ../shared/reference through the engine (public C API
// only) and compares top-20 logits and greedy tokens with llama.cpp's golden outputs.
//
//   glm-golden --reference-dir DIR [--skip-missing] [--only SUBSTRING] [--threads N] [--verbose]
//
// Tolerances (docs/engine.md, golden agreement): F32 models 1e-4 and every greedy token; F16 2e-2 and every greedy token;
// quantised 0.5, greedy tokens up to the first step where the reference's top two logits are
// closer than 0.5. Models the engine does not run (GLM_ERR_UNSUPPORTED) are reported and skipped.
// Exit status 0 when every run model agrees.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "glm.h"
#include "json_mini.h"

using jsonmini::Value;

namespace {

std::string read_file(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

struct Result {
    double max_top20 = 0, max_top5 = 0;
    int greedy_ok = 0, greedy_checked = 0, argmax_all = 0, steps = 0;
    bool pass = true;
};

} // namespace

int main(int argc, char **argv) {
    std::string dir;
    bool skip_missing = false, verbose = false;
    std::string only;
    int threads = 2;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--reference-dir" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--skip-missing")
            skip_missing = true;
        else if (a == "--verbose")
            verbose = true;
        else if (a == "--only" && i + 1 < argc)
            only = argv[++i];
        else if (a == "--threads" && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else {
            std::fprintf(
                stderr,
                "usage: glm-golden --reference-dir DIR [--skip-missing] [--only S] [--threads N] [--verbose]\n");
            return 2;
        }
    }
    const std::string gdir = dir + "/golden";
    DIR *d = opendir(gdir.c_str());
    if (!d) {
        if (skip_missing) {
            std::printf("golden: %s not found, skipped\n", gdir.c_str());
            return 0;
        }
        std::fprintf(stderr, "golden: cannot open %s\n", gdir.c_str());
        return 2;
    }
    std::vector<std::string> files;
    while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.find(".prompts-") != std::string::npos && n.size() > 5 && n.substr(n.size() - 5) == ".json" &&
            (only.empty() || n.find(only) != std::string::npos))
            files.push_back(n);
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    int failures = 0;
    std::printf("%s\n", glm_system_info());
    for (const std::string &fn : files) {
        Value g;
        try {
            g = jsonmini::Parser(read_file(gdir + "/" + fn)).parse();
        } catch (const std::exception &e) {
            std::fprintf(stderr, "%s: %s\n", fn.c_str(), e.what());
            failures++;
            continue;
        }
        const std::string model_path = dir + "/models/" + g["model_file"].str;
        glm_model *m = nullptr;
        int32_t st = glm_model_load(model_path.c_str(), nullptr, &m);
        if (st == GLM_ERR_UNSUPPORTED) {
            std::printf("%-40s skipped: %s\n", fn.c_str(), glm_last_error());
            continue;
        }
        if (st != GLM_OK) {
            std::printf("%-40s FAIL load: %s\n", fn.c_str(), glm_last_error());
            failures++;
            continue;
        }
        glm_model_hparams hp;
        glm_model_get_hparams(m, &hp);
        // Tolerance class from the tensor types of the 2-D weights.
        bool any_quant = false, any_f16 = false;
        for (int64_t t = 0; t < glm_tensor_count(m); t++) {
            int32_t type, nd;
            int64_t ne[4];
            const char *name;
            glm_tensor_info(m, t, &name, &type, &nd, ne);
            if (nd == 2) {
                if (type == 1 || type == 30)
                    any_f16 = true;
                else if (type != 0)
                    any_quant = true;
            }
        }
        const double tol = any_quant ? 0.5 : (any_f16 ? 2e-2 : 1e-4);
        glm_context_params cp = glm_context_default_params();
        cp.n_threads = threads;
        cp.kv_type = GLM_KV_F32; // the goldens were made with an F32 KV cache and flash attention off
        cp.kv_block_size = 16;
        cp.n_kv_blocks = (hp.n_ctx_train + 15) / 16;
        glm_context *c = nullptr;
        if (glm_context_create(m, &cp, &c) != GLM_OK) {
            std::printf("%s: context: %s\n", fn.c_str(), glm_last_error());
            failures++;
            glm_model_free(m);
            continue;
        }
        const int nv = hp.n_vocab;
        std::vector<float> logits(nv);
        Result total;
        int nprompts = 0;
        std::vector<std::vector<int32_t>> all_ids, all_greedy;
        std::vector<std::vector<float>> all_logits; // per prompt: 32 steps x n_vocab, single-sequence run
        for (const Value &p : g["prompts"].arr) {
            std::vector<int32_t> ids;
            for (const Value &v : p["prompt_ids"].arr) ids.push_back((int32_t)v.num);
            std::vector<int32_t> greedy;
            for (const Value &v : p["greedy_ids"].arr) greedy.push_back((int32_t)v.num);
            const int n_total = (int)(ids.size() + greedy.size());
            std::vector<int32_t> table((n_total + 15) / 16);
            for (size_t i = 0; i < table.size(); i++) table[i] = (int32_t)i;
            int32_t offs[2] = {0, (int32_t)table.size()};
            Result r;
            all_ids.push_back(ids);
            all_greedy.push_back(greedy);
            all_logits.emplace_back();
            // Prefill: the whole prompt in one batch, logits of the last row.
            {
                const int n = (int)ids.size();
                std::vector<int32_t> seq(n, 0), pos(n), slot(n);
                for (int i = 0; i < n; i++) {
                    pos[i] = i;
                    slot[i] = i;
                }
                int32_t lrow = n - 1;
                glm_batch b{n, ids.data(), seq.data(), pos.data(), slot.data(), 1, offs, table.data(), 1, &lrow};
                if (glm_forward(c, &b, logits.data()) != GLM_OK) {
                    std::printf("forward: %s\n", glm_last_error());
                    failures++;
                    break;
                }
            }
            for (const Value &tl : p["top20_last_prompt_pos"].arr) {
                const int id = (int)tl.arr[0].num;
                r.max_top20 = std::max(r.max_top20, std::fabs((double)logits[id] - tl.arr[1].num));
            }
            // Greedy steps, fed with the reference tokens so later steps stay comparable.
            const Value &top5 = p["top5_per_step"];
            bool counting = true;
            for (size_t k = 0; k < greedy.size(); k++) {
                if (k > 0) {
                    int32_t tok = greedy[k - 1], seq = 0, pos = (int32_t)(ids.size() + k - 1), slot = pos, lrow = 0;
                    glm_batch b{1, &tok, &seq, &pos, &slot, 1, offs, table.data(), 1, &lrow};
                    if (glm_forward(c, &b, logits.data()) != GLM_OK) {
                        std::printf("forward: %s\n", glm_last_error());
                        failures++;
                        break;
                    }
                }
                all_logits.back().insert(all_logits.back().end(), logits.begin(), logits.end());
                const Value &t5 = top5.arr[k];
                for (const Value &e : t5.arr) {
                    r.max_top5 = std::max(r.max_top5, std::fabs((double)logits[(int)e.arr[0].num] - e.arr[1].num));
                }
                const double gap = t5.arr[0].arr[1].num - t5.arr[1].arr[1].num;
                if (any_quant && gap < 0.5) counting = false;
                const int mine = argmax(logits.data(), nv);
                r.steps++;
                if (mine == greedy[k]) r.argmax_all++;
                if (counting) {
                    r.greedy_checked++;
                    if (mine == greedy[k])
                        r.greedy_ok++;
                    else
                        r.pass = false;
                }
            }
            if (r.max_top20 > tol) r.pass = false;
            if (verbose || !r.pass) {
                std::printf("  %-28s top20 max|d| %.3g  top5/step max|d| %.3g  greedy %d/%d%s\n", p["id"].str.c_str(),
                            r.max_top20, r.max_top5, r.greedy_ok, r.greedy_checked, r.pass ? "" : "  FAIL");
            }
            total.max_top20 = std::max(total.max_top20, r.max_top20);
            total.max_top5 = std::max(total.max_top5, r.max_top5);
            total.greedy_ok += r.greedy_ok;
            total.greedy_checked += r.greedy_checked;
            total.argmax_all += r.argmax_all;
            total.steps += r.steps;
            total.pass = total.pass && r.pass;
            nprompts++;
        }
        std::printf("%-40s %s  prompts %d  top20 max|d| %.3g (tol %.0e)  top5/step max|d| %.3g  greedy %d/%d checked "
                    "(argmax equal at %d/%d steps)\n",
                    fn.c_str(), total.pass ? "PASS" : "FAIL", nprompts, total.max_top20, tol, total.max_top5,
                    total.greedy_ok, total.greedy_checked, total.argmax_all, total.steps);
        // Batch invariance on the real model: all prompts together (prefills of different lengths in
        // one call, then one decode row per sequence per step) must give bit-identical logits.
        {
            const int ns = (int)all_ids.size();
            int same = 0, steps = 0;
            glm_context *cb = nullptr;
            glm_context_params bp = cp;
            int per = 0;
            for (int q = 0; q < ns; q++)
                per = std::max(per, (int)((all_ids[q].size() + all_greedy[q].size() + 15) / 16));
            bp.n_kv_blocks = per * ns;
            if (glm_context_create(m, &bp, &cb) == GLM_OK) {
                std::vector<int32_t> offs{0}, tables;
                for (int q = 0; q < ns; q++) {
                    for (int i = 0; i < per; i++) tables.push_back(q * per + i);
                    offs.push_back((int32_t)tables.size());
                }
                std::vector<float> bl((size_t)ns * nv);
                size_t nsteps = all_greedy.empty() ? 0 : all_greedy[0].size();
                for (const auto &gq : all_greedy) nsteps = std::min(nsteps, gq.size());
                for (size_t k = 0; k < nsteps; k++) {
                    std::vector<int32_t> tok, sq, ps, sl, lr;
                    for (int q = 0; q < ns; q++) {
                        const int n0 = (int)all_ids[q].size();
                        const int from = k == 0 ? 0 : n0 + (int)k - 1, to = k == 0 ? n0 : n0 + (int)k;
                        for (int p = from; p < to; p++) {
                            tok.push_back(k == 0 ? all_ids[q][p] : all_greedy[q][k - 1]);
                            sq.push_back(q);
                            ps.push_back(p);
                            sl.push_back(tables[offs[q] + p / 16] * 16 + p % 16);
                        }
                        lr.push_back((int32_t)tok.size() - 1);
                    }
                    glm_batch b{(int32_t)tok.size(), tok.data(),    sq.data(), ps.data(), sl.data(), ns,
                                offs.data(),         tables.data(), ns,        lr.data()};
                    if (glm_forward(cb, &b, bl.data()) != GLM_OK) {
                        std::printf("batched forward: %s\n", glm_last_error());
                        break;
                    }
                    for (int q = 0; q < ns; q++) {
                        steps++;
                        if (std::memcmp(bl.data() + (size_t)q * nv, all_logits[q].data() + k * nv, (size_t)nv * 4) == 0)
                            same++;
                    }
                }
                glm_context_free(cb);
            }
            std::printf("%-40s batch of %d vs single: logits bit-identical at %d/%d steps%s\n", fn.c_str(), ns, same,
                        steps, same == steps && steps > 0 ? "" : "  FAIL");
            if (same != steps || steps == 0) failures++;
        }
        if (!total.pass) failures++;
        glm_context_free(c);
        glm_model_free(m);
    }
    return failures == 0 ? 0 : 1;
}
