// glm4moe's mixture-of-experts FFN on the CPU: routing, then every expert's weights read once per
// step over the rows that chose it, in a fixed number of parallel dispatches per layer.
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace glm {

namespace {

// Output rows per task. Fixed (not derived from the thread count) and a multiple of kPanelRows, so
// which outputs one task computes never depends on the thread count; a task computes its outputs
// whole, so the split never changes a value anyway.
constexpr int64_t kMoeChunk = 64;

ActType act_fmt(const KernelSet &ks, const Weight &w) { return w.packed ? ks.packed_act[w.kind] : act_type_of(w.kind); }

MatmulFn matmul_fn(const KernelSet &ks, const Weight &w) {
    return w.packed ? ks.packed_matmul[w.kind] : ks.matmul[w.kind];
}

MatmulArgs matmul_args(const Weight &w, const uint8_t *x, size_t x_stride, int64_t n, float *y, size_t y_stride) {
    if (w.packed) return MatmulArgs{w.packed, w.panel_bytes, w.in, x, x_stride, n, y, y_stride, w.out};
    return MatmulArgs{w.t->data, w.row_bytes, w.in, x, x_stride, n, y, y_stride, w.out};
}

// One group of rows through one expert: n rows starting at row `first` of the grouped buffers.
struct Group {
    int32_t expert; // -1: the shared expert (all rows, its own buffers)
    int64_t first, n;
};

// A task: output rows [o0, o1) of group g.
struct Task {
    int32_t g;
    int64_t o0, o1;
};

void add_tasks(std::vector<Task> &tasks, int32_t g, int64_t out) {
    for (int64_t o0 = 0; o0 < out; o0 += kMoeChunk) tasks.push_back({g, o0, std::min(o0 + kMoeChunk, out)});
}

uint8_t *align64(std::vector<uint8_t> &buf, size_t need) {
    if (buf.size() < need + 64) buf.resize(need + 64);
    return buf.data() + ((64 - (reinterpret_cast<uintptr_t>(buf.data()) & 63)) & 63);
}

} // namespace

// A glm4moe MoE FFN over the first `rows` rows of h, into tmp (llama.cpp's build_moe_ffn for
// GLM-4.5): router -> sigmoid (or softmax) -> top-k by probability + exp_probs_b -> weights = the
// unbiased probabilities of the chosen experts, normalised and scaled per the hparams; then
//   1. h's rows quantised once per activation format, gathered by expert (a copy of bytes);
//   2. one dispatch: every chosen expert's gate and up over the rows that chose it, and the shared
//      expert's over all rows, each task finishing silu(gate) * up for its outputs;
//   3. those rows quantised for the down projections;
//   4. one dispatch: every down projection (routed and shared);
//   5. per row the weighted outputs summed in selection order, plus the shared expert.
// Every value depends only on its own row and the weights, never on the batch, the grouping or
// the thread count, so a token gives the same bits alone and in any batch, with any thread count.
void Context::moe_ffn(const Layer &L, int64_t rows) {
    const MoeParams &mp = model->moe;
    const KernelSet &ks = *k;
    const int64_t E = model->hp.n_embd, nx = mp.n_expert, K = mp.n_used, ffe = mp.n_ff_exp;
    const int64_t ns = rows * K; // (row, choice) slots
    moe_p.resize((size_t)rows * nx);
    moe_w.resize((size_t)ns);
    moe_sel.resize((size_t)ns);
    {
        Job j{&L.router, h.data(), E, moe_p.data(), nx, nullptr};
        run_jobs(*this, &j, 1, rows);
    }
    for (int64_t r = 0; r < rows; r++) {
        float *p = &moe_p[(size_t)r * nx];
        if (mp.gating == 1) {
            float mx = p[0];
            for (int64_t e = 1; e < nx; e++) mx = std::max(mx, p[e]);
            double sum = 0;
            for (int64_t e = 0; e < nx; e++) sum += (p[e] = std::exp(p[e] - mx));
            const float inv = (float)(1.0 / sum);
            for (int64_t e = 0; e < nx; e++) p[e] *= inv;
        } else {
            for (int64_t e = 0; e < nx; e++) p[e] = 1.0f / (1.0f + std::exp(-p[e]));
        }
        // top-k by the biased score (the bias only chooses); ties: the lower expert id first
        int32_t *sel = &moe_sel[(size_t)r * K];
        float *w = &moe_w[(size_t)r * K];
        for (int64_t kk = 0; kk < K; kk++) {
            int32_t best = -1;
            float bs = 0;
            for (int64_t e = 0; e < nx; e++) {
                bool taken = false;
                for (int64_t j = 0; j < kk; j++) taken |= sel[j] == e;
                if (taken) continue;
                const float sc = p[e] + (L.exp_probs_b ? L.exp_probs_b[e] : 0.0f);
                if (best < 0 || sc > bs) {
                    best = (int32_t)e;
                    bs = sc;
                }
            }
            sel[kk] = best;
            w[kk] = p[best];
        }
        if (mp.weights_norm) {
            float sum = 0;
            for (int64_t kk = 0; kk < K; kk++) sum += w[kk];
            sum = std::max(sum, 6.103515625e-5f);
            for (int64_t kk = 0; kk < K; kk++) w[kk] = w[kk] / sum;
        }
        if (mp.weights_scale != 0.0f && mp.weights_scale != 1.0f)
            for (int64_t kk = 0; kk < K; kk++) w[kk] = w[kk] * mp.weights_scale;
    }

    // Group the slots by expert (counting sort, slots in ascending order within an expert):
    // moe_pos[slot] = its row in the grouped buffers.
    std::vector<int64_t> start((size_t)nx + 1, 0);
    for (int64_t t = 0; t < ns; t++) start[(size_t)moe_sel[(size_t)t] + 1]++;
    for (int64_t e = 0; e < nx; e++) start[(size_t)e + 1] += start[(size_t)e];
    std::vector<int64_t> fill(start.begin(), start.end() - 1), slot_at((size_t)ns);
    moe_pos.resize((size_t)ns);
    for (int64_t t = 0; t < ns; t++) {
        const int64_t at = fill[(size_t)moe_sel[(size_t)t]]++;
        moe_pos[(size_t)t] = at;
        slot_at[(size_t)at] = t;
    }
    std::vector<Group> groups;
    for (int64_t e = 0; e < nx; e++)
        if (start[(size_t)e + 1] > start[(size_t)e])
            groups.push_back({(int32_t)e, start[(size_t)e], start[(size_t)e + 1] - start[(size_t)e]});
    const bool shared = (bool)L.gate_sh;
    const int64_t ffs = shared ? L.gate_sh.out : 0;
    if (shared) groups.push_back({-1, 0, rows});

    // 1. The gate/up activations: h quantised once per format, routed rows gathered by expert.
    const Weight &g0 = L.gate_exps[0], &u0 = L.up_exps[0];
    const ActType fg = act_fmt(ks, g0), fu = act_fmt(ks, u0);
    const ActType fsg = shared ? act_fmt(ks, L.gate_sh) : fg, fsu = shared ? act_fmt(ks, L.up_sh) : fu;
    ActType fmts[4];
    int nf = 0;
    for (ActType f : {fg, fu, fsg, fsu})
        if (std::find(fmts, fmts + nf, f) == fmts + nf) fmts[nf++] = f;
    auto fi = [&](ActType f) { return (int)(std::find(fmts, fmts + nf, f) - fmts); };
    size_t hs = act_row_bytes(fmts[0], E); // the largest of the formats' row sizes
    for (int i = 1; i < nf; i++) hs = std::max(hs, act_row_bytes(fmts[i], E));
    // layout: per format, `rows` quantised rows of h, then per routed format `ns` gathered rows
    const size_t per_fmt = hs * (size_t)(rows + ns);
    uint8_t *hq = align64(moe_act, per_fmt * (size_t)nf);
    auto hrow = [&](int f, int64_t r) { return hq + per_fmt * (size_t)f + hs * (size_t)r; };
    auto grow = [&](int f, int64_t i) { return hq + per_fmt * (size_t)f + hs * (size_t)(rows + i); };
    {
        const int64_t tasks = (int64_t)nf * rows;
        auto one = [&](int64_t t, int) {
            const int f = (int)(t / rows);
            const int64_t r = t % rows;
            ks.quantize(fmts[f], &h[(size_t)r * E], hrow(f, r), E);
        };
        if (tasks >= 16)
            pool->parallel_for(tasks, one);
        else
            for (int64_t t = 0; t < tasks; t++) one(t, 0);
    }
    for (int f : {fi(fg), fi(fu)}) {
        for (int64_t i = 0; i < ns; i++) std::memcpy(grow(f, i), hrow(f, slot_at[(size_t)i] / K), hs);
        if (fg == fu) break;
    }

    // 2. gate + up + silu, every group in one dispatch.
    moe_gu.resize((size_t)ns * 2 * ffe);
    moe_m.resize((size_t)ns * ffe);
    moe_shgu.resize((size_t)rows * 2 * ffs);
    moe_shm.resize((size_t)rows * ffs);
    std::vector<Task> tasks;
    for (size_t g = 0; g < groups.size(); g++) add_tasks(tasks, (int32_t)g, groups[g].expert < 0 ? ffs : ffe);
    pool->parallel_for((int64_t)tasks.size(), [&](int64_t ti, int) {
        const Task &t = tasks[(size_t)ti];
        const Group &gr = groups[(size_t)t.g];
        const bool sh = gr.expert < 0;
        const Weight &wg = sh ? L.gate_sh : L.gate_exps[(size_t)gr.expert];
        const Weight &wu = sh ? L.up_sh : L.up_exps[(size_t)gr.expert];
        const int64_t ff = sh ? ffs : ffe;
        float *gu = sh ? moe_shgu.data() : &moe_gu[(size_t)gr.first * 2 * ffe];
        float *m = sh ? moe_shm.data() : &moe_m[(size_t)gr.first * ffe];
        const uint8_t *xg = sh ? hrow(fi(fsg), 0) : grow(fi(fg), gr.first);
        const uint8_t *xu = sh ? hrow(fi(fsu), 0) : grow(fi(fu), gr.first);
        matmul_fn(ks, wg)(matmul_args(wg, xg, hs, gr.n, gu, (size_t)(2 * ff)), t.o0, t.o1);
        matmul_fn(ks, wu)(matmul_args(wu, xu, hs, gr.n, gu + ff, (size_t)(2 * ff)), t.o0, t.o1);
        for (int64_t i = 0; i < gr.n; i++)
            ks.silu_mul(m + i * ff + t.o0, gu + i * 2 * ff + t.o0, gu + i * 2 * ff + ff + t.o0, t.o1 - t.o0);
    });

    // 3. the down projections' activations
    const Weight &d0 = L.down_exps[0];
    const ActType fd = act_fmt(ks, d0), fsd = shared ? act_fmt(ks, L.down_sh) : fd;
    const size_t ds = act_row_bytes(fd, ffe), dss = shared ? act_row_bytes(fsd, ffs) : 0;
    uint8_t *dq = align64(moe_act2, ds * (size_t)ns + dss * (size_t)rows);
    uint8_t *dqs = dq + ds * (size_t)ns;
    {
        const int64_t n_all = ns + (shared ? rows : 0);
        auto one = [&](int64_t i, int) {
            if (i < ns)
                ks.quantize(fd, &moe_m[(size_t)i * ffe], dq + ds * (size_t)i, ffe);
            else
                ks.quantize(fsd, &moe_shm[(size_t)(i - ns) * ffs], dqs + dss * (size_t)(i - ns), ffs);
        };
        if (n_all >= 16)
            pool->parallel_for(n_all, one);
        else
            for (int64_t i = 0; i < n_all; i++) one(i, 0);
    }

    // 4. every down projection in one dispatch
    moe_od.resize((size_t)ns * E);
    moe_sh.resize((size_t)rows * E);
    tasks.clear();
    for (size_t g = 0; g < groups.size(); g++) add_tasks(tasks, (int32_t)g, E);
    pool->parallel_for((int64_t)tasks.size(), [&](int64_t ti, int) {
        const Task &t = tasks[(size_t)ti];
        const Group &gr = groups[(size_t)t.g];
        if (gr.expert < 0) {
            matmul_fn(ks, L.down_sh)(matmul_args(L.down_sh, dqs, dss, rows, moe_sh.data(), (size_t)E), t.o0, t.o1);
        } else {
            const Weight &wd = L.down_exps[(size_t)gr.expert];
            matmul_fn(ks, wd)(
                matmul_args(wd, dq + ds * (size_t)gr.first, ds, gr.n, &moe_od[(size_t)gr.first * E], (size_t)E), t.o0,
                t.o1);
        }
    });

    // 5. weighted sum in selection order, then the shared expert
    for (int64_t r = 0; r < rows; r++) {
        float *y = &tmp[(size_t)r * E];
        const float *w = &moe_w[(size_t)r * K];
        const float *o0 = &moe_od[(size_t)moe_pos[(size_t)(r * K)] * E];
        for (int64_t i = 0; i < E; i++) y[i] = o0[i] * w[0];
        for (int64_t kk = 1; kk < K; kk++) {
            const float *o = &moe_od[(size_t)moe_pos[(size_t)(r * K + kk)] * E];
            for (int64_t i = 0; i < E; i++) y[i] = y[i] + o[i] * w[kk];
        }
        if (shared) {
            const float *sh = &moe_sh[(size_t)r * E];
            for (int64_t i = 0; i < E; i++) y[i] = y[i] + sh[i];
        }
    }
}

} // namespace glm
