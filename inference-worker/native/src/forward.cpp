// The CPU context (KV pool, scratch) and the forward pass over one mixed batch.
#include "engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace glm {

void Context::create(Model *m, const glm_context_params &p) {
    model = m;
    params = p;
    k = &active_kernels();
    m->ensure_packed(*k);
    const glm_model_hparams &hp = m->hp;
    kv_elem = p.kv_type == GLM_KV_F32 ? 4 : 2;
    n_slots = (int64_t)p.n_kv_blocks * p.kv_block_size;
    const size_t kvdim = (size_t)hp.n_head_kv * hp.head_dim;
    kv_half = (size_t)n_slots * kvdim * kv_elem;
    kv_layer_stride = 2 * kv_half;
    // An encoder keeps no KV: glm_embed computes K and V in its scratch and drops them.
    const size_t total = m->is_bert ? 0 : kv_layer_stride * (size_t)m->n_layer_run;
    try {
        kv.assign(total, 0);
    } catch (...) {
        fail(GLM_ERR_OUT_OF_MEMORY, "cannot allocate a KV pool of %zu bytes", total);
    }
    pool = std::make_unique<ThreadPool>(p.n_threads);
    scores.resize(pool->size());
    q16.resize(pool->size());
}

namespace {

// glm_context_profile: charges the wall time since the previous mark to a phase, when on.
struct PhaseClock {
    Context &c;
    std::chrono::steady_clock::time_point t{};
    explicit PhaseClock(Context &ctx) : c(ctx) {
        if (c.profile) t = std::chrono::steady_clock::now();
    }
    void mark(int phase) {
        if (!c.profile) return;
        const auto now = std::chrono::steady_clock::now();
        c.prof[phase] += std::chrono::duration<double>(now - t).count();
        t = now;
    }
};

void dequant_row(const Weight &w, int64_t row, float *out) {
    dequant_row_bytes(w.t->type, w.t->data + (size_t)row * w.row_bytes, w.in, out);
}

} // namespace

// Runs several matrix products over the same n rows as one parallel dispatch.
void run_jobs(Context &c, const Job *jobs, int nj, int64_t n) {
    struct Prepared {
        MatmulArgs a;
        int64_t chunk;
        int64_t tasks;
    };
    Prepared pj[4];
    // Activation buffers, one per distinct (source, format).
    struct ActBuf {
        const float *src;
        int fmt;
        size_t off;
        size_t stride;
    };
    ActBuf bufs[4];
    int nb = 0;
    size_t need = 0;
    const KernelSet *ks = c.k;
    auto fmt_of = [&](const Weight &w) { return (int)(w.packed ? ks->packed_act[w.kind] : act_type_of(w.kind)); };
    for (int j = 0; j < nj; j++) {
        const int fmt = fmt_of(*jobs[j].w);
        bool found = false;
        for (int b = 0; b < nb; b++) found |= (bufs[b].src == jobs[j].src && bufs[b].fmt == fmt);
        if (!found) {
            const size_t stride = act_row_bytes((ActType)fmt, jobs[j].w->in);
            bufs[nb++] = {jobs[j].src, fmt, need, stride};
            need += stride * (size_t)n;
        }
    }
    if (c.act.size() < need + 64) c.act.resize(need + 64);
    uint8_t *base = c.act.data() + ((64 - (reinterpret_cast<uintptr_t>(c.act.data()) & 63)) & 63);
    // Quantise every needed activation row (in parallel when there are many rows).
    int64_t quant_tasks = (int64_t)nb * n;
    auto quant = [&](int64_t t, int) {
        const ActBuf &b = bufs[t / n];
        const int64_t r = t % n;
        int64_t K = 0, stride = 0;
        for (int j = 0; j < nj; j++)
            if (jobs[j].src == b.src && fmt_of(*jobs[j].w) == b.fmt) {
                K = jobs[j].w->in;
                stride = jobs[j].src_stride;
            }
        ks->quantize((ActType)b.fmt, b.src + r * stride, base + b.off + (size_t)r * b.stride, K);
    };
    if (quant_tasks >= 16)
        c.pool->parallel_for(quant_tasks, quant);
    else
        for (int64_t t = 0; t < quant_tasks; t++) quant(t, 0);

    const int nthreads = c.pool->size();
    int64_t total_tasks = 0;
    // Chunks are sized from all the dispatch's output rows, not each product's: Q, K and V go out
    // together, and K and V (256 rows each in GLM-4) cut by their own size gave one-panel tasks,
    // each starting with a cold stream (the Q/K/V phase streamed its bytes 20-30 % slower than the
    // big products at batch 1).
    int64_t all_out = 0;
    for (int j = 0; j < nj; j++) all_out += jobs[j].w->out;
    for (int j = 0; j < nj; j++) {
        const Weight &w = *jobs[j].w;
        const int fmt = fmt_of(w);
        const ActBuf *ab = nullptr;
        for (int b = 0; b < nb; b++)
            if (bufs[b].src == jobs[j].src && bufs[b].fmt == fmt) ab = &bufs[b];
        MatmulArgs a = w.packed ? MatmulArgs{w.packed,    w.panel_bytes,
                                             w.in,        base + ab->off,
                                             ab->stride,  n,
                                             jobs[j].dst, (size_t)jobs[j].dst_stride,
                                             w.out}
                                : MatmulArgs{w.t->data,  w.row_bytes, w.in,        base + ab->off,
                                             ab->stride, n,           jobs[j].dst, (size_t)jobs[j].dst_stride,
                                             w.out};
        // Chunks of output rows: about 8 per thread, panel-aligned for panel kernels. Outputs are
        // computed whole by one task, so the split never changes a value.
        int64_t chunk = all_out / (nthreads * 8);
        chunk = std::max<int64_t>(16, std::min<int64_t>(256, chunk)) & ~int64_t(w.packed ? kPanelRows - 1 : 3);
        pj[j] = {a, chunk, (w.out + chunk - 1) / chunk};
        total_tasks += pj[j].tasks;
    }
    c.pool->parallel_for(total_tasks, [&](int64_t t, int) {
        int j = 0;
        while (t >= pj[j].tasks) {
            t -= pj[j].tasks;
            j++;
        }
        const int64_t o0 = t * pj[j].chunk;
        const int64_t o1 = std::min<int64_t>(o0 + pj[j].chunk, jobs[j].w->out);
        const Weight &w = *jobs[j].w;
        (w.packed ? ks->packed_matmul[w.kind] : ks->matmul[w.kind])(pj[j].a, o0, o1);
        if (const float *bias = jobs[j].bias) {
            for (int64_t r = 0; r < n; r++) {
                float *y = jobs[j].dst + r * jobs[j].dst_stride;
                for (int64_t o = o0; o < o1; o++) y[o] = y[o] + bias[o];
            }
        }
    });
}

void Context::forward(const glm_batch &b, float *logits) {
    const glm_model_hparams &hp = model->hp;
    const int64_t n = b.n_tokens;
    const int64_t E = hp.n_embd, hd = hp.head_dim, nh = hp.n_head, nkv = hp.n_head_kv;
    const int64_t qdim = nh * hd, kvdim = nkv * hd, ff = hp.n_ff;
    const int64_t qkv_dim = qdim + 2 * kvdim;
    const int64_t bs = params.kv_block_size;
    const float eps = hp.rms_norm_eps;

    x.resize((size_t)n * E);
    h.resize((size_t)n * E);
    q.resize((size_t)n * qkv_dim);
    attn.resize((size_t)n * qdim);
    tmp.resize((size_t)n * E);
    ffn.resize((size_t)n * 2 * ff);
    ffn2.resize((size_t)n * ff);
    int64_t max_ctx = 0;
    for (int32_t s = 0; s < b.n_seqs; s++) {
        max_ctx = std::max<int64_t>(max_ctx, (int64_t)(b.block_table_offsets[s + 1] - b.block_table_offsets[s]) * bs);
    }
    for (auto &s : scores)
        if ((int64_t)s.size() < max_ctx) s.resize(max_ctx);
    for (auto &s : q16)
        if ((int64_t)s.size() < hd) s.resize(hd);

    PhaseClock clock(*this);
    for (int64_t r = 0; r < n; r++) dequant_row(model->tok_embd, b.token_ids[r], &x[(size_t)r * E]);

    // RoPE tables per row: cos/sin for each rotated pair, theta built by repeated multiplication.
    const int64_t npair = hp.n_rot / 2;
    rcos.resize((size_t)n * npair);
    rsin.resize((size_t)n * npair);
    const float theta_scale = std::pow(hp.rope_freq_base, -2.0f / (float)hp.n_rot);
    for (int64_t r = 0; r < n; r++) {
        float theta = (float)b.positions[r];
        for (int64_t i = 0; i < npair; i++) {
            rcos[r * npair + i] = std::cos(theta);
            rsin[r * npair + i] = std::sin(theta);
            theta *= theta_scale;
        }
    }
    const float kq_scale = 1.0f / std::sqrt((float)hd);
    clock.mark(GLM_PROF_EMBED);
    // Row-wise element work (norms, residuals, SiLU) in parallel when there are enough rows.
    auto per_row = [&](int64_t nrows, const std::function<void(int64_t)> &fn) {
        if (nrows >= 4)
            pool->parallel_for(nrows, [&](int64_t r, int) { fn(r); });
        else
            for (int64_t r = 0; r < nrows; r++) fn(r);
    };
    const bool f16kv = kv_elem == 2;
    int64_t rows = n; // rows still carried (the last layer keeps only logit rows)

    for (int32_t il = 0; il < model->n_layer_run; il++) {
        const Layer &L = model->layers[il];
        const bool last = il == model->n_layer_run - 1;
        per_row(rows, [&](int64_t r) { k->rmsnorm(&x[r * E], L.attn_norm, &h[r * E], E, eps); });
        clock.mark(GLM_PROF_NORM);
        // Q, K, V into q[r * qkv_dim + (0 | qdim | qdim + kvdim)]
        if (L.wqkv) {
            Job j{&L.wqkv, h.data(), E, q.data(), qkv_dim, L.bqkv};
            run_jobs(*this, &j, 1, rows);
        } else {
            Job j[3] = {{&L.wq, h.data(), E, q.data(), qkv_dim, L.bq},
                        {&L.wk, h.data(), E, q.data() + qdim, qkv_dim, L.bk},
                        {&L.wv, h.data(), E, q.data() + qdim + kvdim, qkv_dim, L.bv}};
            run_jobs(*this, j, 3, rows);
        }
        clock.mark(GLM_PROF_QKV);
        // RoPE (NORM mode: adjacent pairs) on q and k, then store k and v in their slots.
        uint8_t *kl = kv.data() + (size_t)il * kv_layer_stride;
        uint8_t *vl = kl + kv_half;
        per_row(rows, [&](int64_t r) {
            float *qr = &q[r * qkv_dim];
            const float *cs = &rcos[r * npair], *sn = &rsin[r * npair];
            // glm4moe's optional q/k norms: RMSNorm per head, after the bias and before RoPE
            if (L.q_norm)
                for (int64_t hh = 0; hh < nh; hh++) k->rmsnorm(qr + hh * hd, L.q_norm, qr + hh * hd, hd, eps);
            if (L.k_norm)
                for (int64_t hh = nh; hh < nh + nkv; hh++) k->rmsnorm(qr + hh * hd, L.k_norm, qr + hh * hd, hd, eps);
            for (int64_t hh = 0; hh < nh + nkv; hh++) {
                float *v = qr + hh * hd;
                if (model->rope_neox) {
                    // NEOX (rotate-half): pairs (i, i + n_rot/2); dims past n_rot pass through
                    for (int64_t i = 0; i < npair; i++) {
                        const float x0 = v[i], x1 = v[i + npair];
                        v[i] = x0 * cs[i] - x1 * sn[i];
                        v[i + npair] = x0 * sn[i] + x1 * cs[i];
                    }
                    continue;
                }
                for (int64_t i = 0; i < npair; i++) {
                    const float x0 = v[2 * i], x1 = v[2 * i + 1];
                    v[2 * i] = x0 * cs[i] - x1 * sn[i];
                    v[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
                }
            }
            const size_t slot = (size_t)b.slot_mapping[r];
            const float *kr = qr + qdim, *vr = qr + qdim + kvdim;
            if (f16kv) {
                uint16_t *kd = reinterpret_cast<uint16_t *>(kl) + slot * kvdim;
                uint16_t *vd = reinterpret_cast<uint16_t *>(vl) + slot * kvdim;
                k->to_f16(kr, kd, kvdim);
                k->to_f16(vr, vd, kvdim);
            } else {
                std::memcpy(reinterpret_cast<float *>(kl) + slot * kvdim, kr, (size_t)kvdim * 4);
                std::memcpy(reinterpret_cast<float *>(vl) + slot * kvdim, vr, (size_t)kvdim * 4);
            }
        });
        clock.mark(GLM_PROF_ROPE);
        // Attention, one task per (row, head): softmax(q.k * scale) . v over positions 0..pos.
        const int64_t group = nh / nkv;
        const size_t slot_bytes = (size_t)kvdim * kv_elem;
        pool->parallel_for(rows * nh, [&](int64_t t, int tid) {
            const int64_t r = t / nh, hh = t % nh, kvh = hh / group;
            const int32_t s = b.seq_idx[r];
            AttnArgs a;
            a.q = &q[r * qkv_dim + hh * hd];
            a.k = kl + (size_t)kvh * hd * kv_elem;
            a.v = vl + (size_t)kvh * hd * kv_elem;
            a.slot_bytes = slot_bytes;
            a.table = b.block_tables + b.block_table_offsets[s];
            a.block_size = bs;
            a.npos = (int64_t)b.positions[r] + 1;
            a.head_dim = hd;
            a.scale = kq_scale;
            a.f16 = f16kv;
            a.out = &attn[r * qdim + hh * hd];
            a.scratch = scores[tid].data();
            a.q16 = q16[tid].data();
            k->attend(*k, a);
        });
        clock.mark(GLM_PROF_ATTN);
        if (last) {
            // Only the rows that want logits go on (llama.cpp's inp_out_ids); values are unchanged.
            gx.resize((size_t)b.n_logits * E);
            ga.resize((size_t)b.n_logits * qdim);
            for (int32_t i = 0; i < b.n_logits; i++) {
                const int64_t src = b.logit_rows[i];
                std::memcpy(&gx[(size_t)i * E], &x[(size_t)src * E], (size_t)E * 4);
                std::memcpy(&ga[(size_t)i * qdim], &attn[(size_t)src * qdim], (size_t)qdim * 4);
            }
            std::copy(gx.begin(), gx.begin() + (ptrdiff_t)b.n_logits * E, x.begin());
            std::copy(ga.begin(), ga.begin() + (ptrdiff_t)b.n_logits * qdim, attn.begin());
            rows = b.n_logits;
            if (rows == 0) return;
        }
        {
            Job j{&L.wo, attn.data(), qdim, tmp.data(), E, nullptr};
            run_jobs(*this, &j, 1, rows);
        }
        clock.mark(GLM_PROF_WO);
        per_row(rows, [&](int64_t r) {
            float *xr = &x[r * E], *tr = &tmp[r * E];
            if (L.post_attn_norm) k->rmsnorm(tr, L.post_attn_norm, tr, E, eps);
            for (int64_t i = 0; i < E; i++) xr[i] = xr[i] + tr[i];
            k->rmsnorm(xr, L.ffn_norm, &h[r * E], E, eps);
        });
        clock.mark(GLM_PROF_NORM);
        if (L.is_moe()) {
            moe_ffn(L, rows); // routed + shared experts into tmp
            clock.mark(GLM_PROF_FFN_UP);
        } else {
            if (L.ffn_gate) {
                // separate gate and up (glm4moe's dense layers) into the fused layout
                Job j[2] = {{&L.ffn_gate, h.data(), E, ffn.data(), 2 * ff, nullptr},
                            {&L.ffn_up, h.data(), E, ffn.data() + ff, 2 * ff, nullptr}};
                run_jobs(*this, j, 2, rows);
            } else {
                Job j{&L.ffn_up, h.data(), E, ffn.data(), 2 * ff, nullptr};
                run_jobs(*this, &j, 1, rows);
            }
            clock.mark(GLM_PROF_FFN_UP);
            per_row(rows, [&](int64_t r) {
                const float *g = &ffn[r * 2 * ff], *u = g + ff;
                float *m = &ffn2[r * ff];
                k->silu_mul(m, g, u, ff);
            });
            clock.mark(GLM_PROF_SILU);
            Job j{&L.ffn_down, ffn2.data(), ff, tmp.data(), E, nullptr};
            run_jobs(*this, &j, 1, rows);
            clock.mark(GLM_PROF_FFN_DOWN);
        }
        per_row(rows, [&](int64_t r) {
            float *xr = &x[r * E], *tr = &tmp[r * E];
            if (L.post_ffn_norm) k->rmsnorm(tr, L.post_ffn_norm, tr, E, eps);
            for (int64_t i = 0; i < E; i++) xr[i] = xr[i] + tr[i];
        });
        clock.mark(GLM_PROF_NORM);
    }
    per_row(rows, [&](int64_t r) { k->rmsnorm(&x[r * E], model->output_norm, &h[r * E], E, eps); });
    Job j{&model->output, h.data(), E, logits, hp.n_vocab, nullptr};
    run_jobs(*this, &j, 1, rows);
    clock.mark(GLM_PROF_OUTPUT);
}

double Context::triad(int64_t array_bytes, int reps) {
    const int64_t n = array_bytes / (int64_t)sizeof(double);
    // Arrays of up to kTriadKeepBytes stay for the next call of the same size (glm-bench --paired
    // times one pass between decode steps); a new size allocates and faults them in with an untimed
    // pass.
    const bool fresh = (int64_t)triad_buf.size() != 3 * n;
    if (fresh) {
        triad_buf.clear();
        triad_buf.shrink_to_fit();
        triad_buf.resize((size_t)(3 * n));
        std::fill(triad_buf.begin() + n, triad_buf.begin() + 2 * n, 1.0);
        std::fill(triad_buf.begin() + 2 * n, triad_buf.end(), 2.0);
    }
    // Chunks claimed dynamically, as the matrix products claim theirs: 16 per thread.
    const int64_t tasks = (int64_t)pool->size() * 16;
    const int64_t chunk = (n + tasks - 1) / tasks;
    double *pa = triad_buf.data();
    const double *pb = pa + n, *pc = pa + 2 * n;
    auto pass = [&] {
        pool->parallel_for(tasks, [&](int64_t t, int) {
            const int64_t i0 = t * chunk, i1 = std::min(n, i0 + chunk);
            for (int64_t i = i0; i < i1; i++) pa[i] = pb[i] + 3.0 * pc[i];
        });
    };
    if (fresh) pass(); // untimed: page faults, frequency ramp
    double best = 0;
    for (int r = 0; r < reps; r++) {
        const auto t0 = std::chrono::steady_clock::now();
        pass();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, 3.0 * (double)n * sizeof(double) / s);
    }
    // keep the stores observable
    volatile double sink = pa[n / 2];
    (void)sink;
    // Only short passes' arrays stay (3 x 64 MiB at most): a context that measured the bound with
    // larger arrays before its benchmark does not carry them through it.
    if (array_bytes > kTriadKeepBytes) {
        triad_buf.clear();
        triad_buf.shrink_to_fit();
    }
    return best;
}

} // namespace glm
