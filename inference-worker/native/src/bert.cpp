// The encoder forward pass (GGUF architecture "bert"): many whole inputs in one batch, packed back
// to back without padding, bidirectional attention within each input, one pooled vector per input.
// Nothing is kept between calls (no KV cache). Every value of a row depends only on its own input,
// so an input's vector is bit-identical alone or among others (docs/embeddings.md).
#include <algorithm>
#include <cmath>

#include "engine.h"

namespace glm {
namespace {

// ggml's tanh GELU as its CPU backend evaluates it: the input rounded to f16, looked up in a table
// of f16 results; x <= -10 gives 0 and x >= 10 gives x.
const uint16_t *gelu_table() {
    static const std::vector<uint16_t> table = [] {
        std::vector<uint16_t> t(1 << 16);
        const float kSqrt2OverPi = 0.79788456080286535587989211986876f, kCoefA = 0.044715f;
        for (uint32_t i = 0; i < t.size(); i++) {
            const float x = fp16_to_fp32((uint16_t)i);
            t[i] = fp32_to_fp16(0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoefA * x * x))));
        }
        return t;
    }();
    return table.data();
}

void gelu(const uint16_t *table, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (v <= -10.0f)
            x[i] = 0.0f;
        else if (v < 10.0f)
            x[i] = fp16_to_fp32(table[fp32_to_fp16(v)]);
    }
}

// y = (x - mean) / sqrt(var + eps) * w + b, biased variance, sums in double (ggml_norm).
void layer_norm(const float *x, const float *w, const float *b, float *y, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)x[i];
    const float mean = (float)(sum / (double)n);
    double sum2 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i] - mean;
        y[i] = v;
        sum2 += (double)(v * v);
    }
    const float variance = (float)(sum2 / (double)n);
    const float scale = 1.0f / std::sqrt(variance + eps);
    for (int64_t i = 0; i < n; i++) y[i] = (y[i] * scale) * w[i] + b[i];
}

} // namespace

void Context::embed(int32_t n_seqs, const int32_t *offsets, const int32_t *ids, float *out) {
    const Model &m = *model;
    const Bert &B = m.bert;
    const glm_model_hparams &hp = m.hp;
    const int64_t n = offsets[n_seqs];
    const int64_t E = hp.n_embd, hd = hp.head_dim, nh = hp.n_head, ff = hp.n_ff;
    const int64_t qkv_dim = 3 * E;
    const float eps = hp.rms_norm_eps;
    const uint16_t *gtab = gelu_table();

    int64_t max_len = 0;
    for (int32_t s = 0; s < n_seqs; s++) max_len = std::max<int64_t>(max_len, offsets[s + 1] - offsets[s]);
    // Row r belongs to sequence seq_of[r]: the start of its sequence and its length for attention.
    std::vector<int32_t> seq_of((size_t)n);
    for (int32_t s = 0; s < n_seqs; s++)
        for (int32_t r = offsets[s]; r < offsets[s + 1]; r++) seq_of[(size_t)r] = s;

    x.resize((size_t)n * E);
    h.resize((size_t)n * E);
    q.resize((size_t)n * qkv_dim);
    attn.resize((size_t)n * E);
    tmp.resize((size_t)n * E);
    ffn.resize((size_t)n * ff);
    for (auto &s : scores)
        if ((int64_t)s.size() < max_len) s.resize(max_len);
    for (auto &s : q16)
        if ((int64_t)s.size() < hd) s.resize(hd);

    auto per_row = [&](int64_t nrows, const std::function<void(int64_t)> &fn) {
        if (nrows >= 4)
            pool->parallel_for(nrows, [&](int64_t r, int) { fn(r); });
        else
            for (int64_t r = 0; r < nrows; r++) fn(r);
    };

    // Embeddings: token + token type 0 + absolute position, then LayerNorm.
    per_row(n, [&](int64_t r) {
        float *xr = &x[r * E], *hr = &h[r * E];
        const int64_t pos = r - offsets[seq_of[(size_t)r]];
        dequant_row_bytes(m.tok_embd.t->type, m.tok_embd.t->data + (size_t)ids[r] * m.tok_embd.row_bytes, E, xr);
        dequant_row_bytes(B.type_embd.t->type, B.type_embd.t->data, E, hr);
        for (int64_t i = 0; i < E; i++) xr[i] = xr[i] + hr[i];
        dequant_row_bytes(B.pos_embd.t->type, B.pos_embd.t->data + (size_t)pos * B.pos_embd.row_bytes, E, hr);
        for (int64_t i = 0; i < E; i++) hr[i] = hr[i] + xr[i];
        layer_norm(hr, B.embd_norm_w, B.embd_norm_b, xr, E, eps);
    });

    // The rows pooling reads; CLS/LAST need only one per input after the last attention.
    std::vector<int64_t> keep;
    if (B.pooling != POOL_MEAN) {
        keep.resize((size_t)n_seqs);
        for (int32_t s = 0; s < n_seqs; s++) keep[(size_t)s] = B.pooling == POOL_CLS ? offsets[s] : offsets[s + 1] - 1;
    }
    const float kq_scale = 1.0f / std::sqrt((float)hd);
    const int32_t zero_block = 0;
    int64_t rows = n;
    for (int32_t il = 0; il < m.n_layer_run; il++) {
        const BertLayer &L = B.layers[(size_t)il];
        const bool last = il == m.n_layer_run - 1;
        {
            Job j[3] = {{&L.wq, x.data(), E, q.data(), qkv_dim, L.bq},
                        {&L.wk, x.data(), E, q.data() + E, qkv_dim, L.bk},
                        {&L.wv, x.data(), E, q.data() + 2 * E, qkv_dim, L.bv}};
            run_jobs(*this, j, 3, rows);
        }
        // Attention, one task per (row, head), over all rows of the row's own input. The K/V rows
        // of an input are contiguous in q: one "block" that holds the whole input.
        const bool prune = last && !keep.empty();
        const int64_t arows = prune ? (int64_t)keep.size() : rows;
        pool->parallel_for(arows * nh, [&](int64_t t, int tid) {
            const int64_t i = t / nh, hh = t % nh;
            const int64_t r = prune ? keep[(size_t)i] : i;
            const int32_t s = seq_of[(size_t)r];
            const int64_t r0 = offsets[s];
            AttnArgs a;
            a.q = &q[r * qkv_dim + hh * hd];
            a.k = reinterpret_cast<const uint8_t *>(&q[r0 * qkv_dim + E + hh * hd]);
            a.v = reinterpret_cast<const uint8_t *>(&q[r0 * qkv_dim + 2 * E + hh * hd]);
            a.slot_bytes = (size_t)qkv_dim * sizeof(float);
            a.table = &zero_block;
            a.block_size = std::max<int64_t>(max_len, 1);
            a.npos = offsets[s + 1] - r0;
            a.head_dim = hd;
            a.scale = kq_scale;
            a.f16 = false;
            a.out = &attn[i * E + hh * hd];
            a.scratch = scores[tid].data();
            a.q16 = q16[tid].data();
            k->attend(*k, a);
        });
        if (prune) {
            // Only the pooled rows go on; their values are unchanged.
            for (int64_t i = 0; i < arows; i++) {
                const int64_t src = keep[(size_t)i];
                if (src != i) std::memcpy(&x[(size_t)i * E], &x[(size_t)src * E], (size_t)E * 4);
            }
            rows = arows;
        }
        {
            Job j{&L.wo, attn.data(), E, tmp.data(), E, L.bo};
            run_jobs(*this, &j, 1, rows);
        }
        per_row(rows, [&](int64_t r) {
            float *xr = &x[r * E], *tr = &tmp[r * E];
            for (int64_t i = 0; i < E; i++) tr[i] = tr[i] + xr[i];
            layer_norm(tr, L.attn_norm_w, L.attn_norm_b, xr, E, eps);
        });
        {
            Job j{&L.ffn_up, x.data(), E, ffn.data(), ff, L.b_up};
            run_jobs(*this, &j, 1, rows);
        }
        per_row(rows, [&](int64_t r) { gelu(gtab, &ffn[r * ff], ff); });
        {
            Job j{&L.ffn_down, ffn.data(), ff, tmp.data(), E, L.b_down};
            run_jobs(*this, &j, 1, rows);
        }
        per_row(rows, [&](int64_t r) {
            float *xr = &x[r * E], *tr = &tmp[r * E];
            for (int64_t i = 0; i < E; i++) tr[i] = tr[i] + xr[i];
            layer_norm(tr, L.out_norm_w, L.out_norm_b, xr, E, eps);
        });
    }

    // Pooling.
    for (int32_t s = 0; s < n_seqs; s++) {
        float *o = out + (size_t)s * E;
        if (B.pooling == POOL_MEAN) {
            const int64_t r0 = offsets[s], len = offsets[s + 1] - offsets[s];
            const float inv = 1.0f / (float)len;
            for (int64_t i = 0; i < E; i++) o[i] = 0.0f;
            for (int64_t r = r0; r < r0 + len; r++)
                for (int64_t i = 0; i < E; i++) o[i] = o[i] + x[(size_t)r * E + i] * inv;
        } else {
            std::memcpy(o, &x[(size_t)s * E], (size_t)E * 4);
        }
    }
}

} // namespace glm
