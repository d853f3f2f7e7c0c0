// Builds the CUDA backend's view of a loaded model from the host model (weights stay in the
// mapping until uploaded). Compiled only when the CUDA backend is.
#include "cuda_glue.h"

namespace glm {

namespace {

glm_cuda::HostTensor weight(const Weight &w) {
    glm_cuda::HostTensor t;
    if (!w) return t;
    t.data = w.t->data;
    t.type = w.t->type;
    t.ne0 = w.t->ne[0];
    t.ne1 = w.t->ne[1];
    return t;
}

glm_cuda::HostTensor vec(const float *p, int64_t n) {
    glm_cuda::HostTensor t;
    if (!p) return t;
    t.data = p;
    t.type = 0; // F32
    t.ne0 = n;
    t.ne1 = 1;
    return t;
}

} // namespace

glm_cuda::HostModel cuda_host_model(const Model &m) {
    const glm_model_hparams &hp = m.hp;
    glm_cuda::HostModel h;
    h.glm4 = m.is_glm4;
    h.n_vocab = hp.n_vocab;
    h.n_embd = hp.n_embd;
    h.n_layer = m.n_layer_run;
    h.n_head = hp.n_head;
    h.n_head_kv = hp.n_head_kv;
    h.head_dim = hp.head_dim;
    h.n_rot = hp.n_rot;
    h.n_ff = hp.n_ff;
    h.rope_freq_base = hp.rope_freq_base;
    h.rms_norm_eps = hp.rms_norm_eps;
    h.tok_embd = weight(m.tok_embd);
    h.output = weight(m.output);
    h.output_norm = vec(m.output_norm, hp.n_embd);
    const int64_t nq = (int64_t)hp.n_head * hp.head_dim, nkv = (int64_t)hp.n_head_kv * hp.head_dim;
    for (int il = 0; il < m.n_layer_run; il++) {
        const Layer &L = m.layers[(size_t)il];
        glm_cuda::HostLayer d;
        d.attn_norm = vec(L.attn_norm, hp.n_embd);
        d.attn_qkv = weight(L.wqkv);
        d.attn_qkv_b = vec(L.bqkv, nq + 2 * nkv);
        d.attn_q = weight(L.wq);
        d.attn_q_b = vec(L.bq, nq);
        d.attn_k = weight(L.wk);
        d.attn_k_b = vec(L.bk, nkv);
        d.attn_v = weight(L.wv);
        d.attn_v_b = vec(L.bv, nkv);
        d.attn_out = weight(L.wo);
        d.post_attn_norm = vec(L.post_attn_norm, hp.n_embd);
        d.ffn_norm = vec(L.ffn_norm, hp.n_embd);
        d.ffn_up = weight(L.ffn_up);
        d.ffn_down = weight(L.ffn_down);
        d.post_ffw_norm = vec(L.post_ffn_norm, hp.n_embd);
        h.layers.push_back(d);
    }
    return h;
}

} // namespace glm
