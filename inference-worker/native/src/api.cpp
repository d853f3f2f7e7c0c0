// The C API: argument checks, exception firewall, thread-local error messages.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <new>
#include <thread>

#include "engine.h"

#ifdef GLM_HAVE_CUDA
#include "cuda/cuda_glue.h"
#endif

struct glm_model {
    glm::Model m;
};
struct glm_context {
    glm::Context c;
#ifdef GLM_HAVE_CUDA
    glm_cuda::Context *cuda = nullptr; // set when the context runs on a CUDA device
    ~glm_context() { glm_cuda::destroy(cuda); }
#endif
};

namespace glm {

static thread_local std::string tl_error;

int32_t set_error(int32_t status, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tl_error = buf;
    return status;
}

void fail(int32_t status, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    throw Error{status, buf};
}

void clear_error() { tl_error.clear(); }
const char *last_error() { return tl_error.c_str(); }

} // namespace glm

using namespace glm;

#define GLM_GUARD_BEGIN try {
#define GLM_GUARD_END                                                                                                  \
    }                                                                                                                  \
    catch (const glm::Error &e) {                                                                                      \
        return set_error(e.status, "%s", e.message.c_str());                                                           \
    }                                                                                                                  \
    catch (const std::bad_alloc &) {                                                                                   \
        return set_error(GLM_ERR_OUT_OF_MEMORY, "out of memory");                                                      \
    }                                                                                                                  \
    catch (const std::exception &e) {                                                                                  \
        return set_error(GLM_ERR_INTERNAL, "internal error: %s", e.what());                                            \
    }                                                                                                                  \
    catch (...) {                                                                                                      \
        return set_error(GLM_ERR_INTERNAL, "internal error");                                                          \
    }

#define CHECK_ARG(cond, ...)                                                                                           \
    do {                                                                                                               \
        if (!(cond)) return set_error(GLM_ERR_INVALID_ARGUMENT, __VA_ARGS__);                                          \
    } while (0)

extern "C" {

int32_t glm_abi_version(void) { return GLM_ABI_VERSION; }

const char *glm_last_error(void) { return last_error(); }

const char *glm_system_info(void) {
    static const std::string info = [] {
        std::string s = "cpu:";
        if (__builtin_cpu_supports("avx2")) s += " avx2";
        if (__builtin_cpu_supports("fma")) s += " fma";
        if (__builtin_cpu_supports("f16c")) s += " f16c";
        if (__builtin_cpu_supports("avx512f")) s += " avx512f";
        if (__builtin_cpu_supports("avx512bw")) s += " avx512bw";
        if (__builtin_cpu_supports("avx512vnni")) s += " avx512vnni";
        s += "; kernels: ";
        s += active_kernels().name;
#ifdef GLM_HAVE_CUDA
        s += "; cuda: built";
#else
        s += "; cuda: no";
#endif
        return s;
    }();
    return info.c_str();
}

glm_model_params glm_model_default_params(void) {
    glm_model_params p;
    p.use_mmap = 1;
    p.validate_data = 0;
    return p;
}

int32_t glm_model_load(const char *path, const glm_model_params *params, glm_model **out) {
    CHECK_ARG(path != nullptr, "path is null");
    CHECK_ARG(out != nullptr, "out is null");
    GLM_GUARD_BEGIN
    glm_model_params p = params ? *params : glm_model_default_params();
    std::unique_ptr<glm_model> m(new glm_model());
    m->m.load(path, p);
    *out = m.release();
    clear_error();
    return GLM_OK;
    GLM_GUARD_END
}

void glm_model_free(glm_model *model) {
    try {
        delete model;
    } catch (...) {}
}

int32_t glm_model_get_hparams(const glm_model *model, glm_model_hparams *out) {
    CHECK_ARG(model && out, "model or out is null");
    *out = model->m.hp;
    return GLM_OK;
}

int64_t glm_meta_count(const glm_model *model) { return model ? (int64_t)model->m.file.meta.size() : 0; }

static const MetaEntry *entry(const glm_model *model, int64_t index) {
    if (!model || index < 0 || index >= (int64_t)model->m.file.meta.size()) return nullptr;
    return &model->m.file.meta[(size_t)index];
}

int32_t glm_meta_key(const glm_model *model, int64_t index, const char **key, int64_t *key_len) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(key && key_len, "key or key_len is null");
    *key = e->key.data();
    *key_len = (int64_t)e->key.size();
    return GLM_OK;
}

int64_t glm_meta_find(const glm_model *model, const char *key) {
    if (!model || !key) return -1;
    try {
        auto it = model->m.file.meta_index.find(std::string_view(key));
        return it == model->m.file.meta_index.end() ? -1 : (int64_t)it->second;
    } catch (...) {
        return -1;
    }
}

int32_t glm_meta_type(const glm_model *model, int64_t index) {
    const MetaEntry *e = entry(model, index);
    return e ? e->type : -1;
}

int32_t glm_meta_get_i64(const glm_model *model, int64_t index, int64_t *out) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(out, "out is null");
    int64_t v;
    if (!meta_int(*e, &v)) {
        if (e->type == GLM_META_UINT64)
            return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' exceeds INT64_MAX", (int)e->key.size(),
                             e->key.data());
        return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' is not an integer (type %d)", (int)e->key.size(),
                         e->key.data(), e->type);
    }
    *out = v;
    return GLM_OK;
}

int32_t glm_meta_get_f64(const glm_model *model, int64_t index, double *out) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(out, "out is null");
    double v;
    if (!meta_float(*e, &v))
        return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' is not a float (type %d)", (int)e->key.size(),
                         e->key.data(), e->type);
    *out = v;
    return GLM_OK;
}

int32_t glm_meta_get_str(const glm_model *model, int64_t index, const char **str, int64_t *len) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(str && len, "str or len is null");
    if (e->type != GLM_META_STRING)
        return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' is not a string (type %d)", (int)e->key.size(),
                         e->key.data(), e->type);
    *str = e->str.data();
    *len = (int64_t)e->str.size();
    return GLM_OK;
}

int32_t glm_meta_arr_info(const glm_model *model, int64_t index, int32_t *elem_type, int64_t *len) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(elem_type && len, "elem_type or len is null");
    if (e->type != GLM_META_ARRAY)
        return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' is not an array", (int)e->key.size(),
                         e->key.data());
    *elem_type = e->arr_type;
    *len = (int64_t)e->arr_len;
    return GLM_OK;
}

int32_t glm_meta_arr_str(const glm_model *model, int64_t index, int64_t i, const char **str, int64_t *len) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(str && len, "str or len is null");
    if (e->type != GLM_META_ARRAY || e->arr_type != GLM_META_STRING) {
        return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' is not a string array", (int)e->key.size(),
                         e->key.data());
    }
    CHECK_ARG(i >= 0 && i < (int64_t)e->arr_strings.size(), "array index %lld out of range", (long long)i);
    *str = e->arr_strings[(size_t)i].data();
    *len = (int64_t)e->arr_strings[(size_t)i].size();
    return GLM_OK;
}

int32_t glm_meta_arr_data(const glm_model *model, int64_t index, const void **data) {
    const MetaEntry *e = entry(model, index);
    CHECK_ARG(e, "metadata index %lld out of range", (long long)index);
    CHECK_ARG(data, "data is null");
    if (e->type != GLM_META_ARRAY || e->arr_type == GLM_META_STRING) {
        return set_error(GLM_ERR_INVALID_ARGUMENT, "metadata '%.*s' is not a numeric array", (int)e->key.size(),
                         e->key.data());
    }
    *data = e->arr_data;
    return GLM_OK;
}

int64_t glm_tensor_count(const glm_model *model) { return model ? (int64_t)model->m.file.tensors.size() : 0; }

int32_t glm_tensor_info(const glm_model *model, int64_t index, const char **name, int32_t *type, int32_t *n_dims,
                        int64_t ne[4]) {
    CHECK_ARG(model, "model is null");
    CHECK_ARG(index >= 0 && index < (int64_t)model->m.file.tensors.size(), "tensor index %lld out of range",
              (long long)index);
    const TensorInfo &t = model->m.file.tensors[(size_t)index];
    if (name) *name = t.name_z.c_str(); // NUL-terminated copy, lives as long as the model
    if (type) *type = t.type;
    if (n_dims) *n_dims = t.n_dims;
    if (ne)
        for (int d = 0; d < 4; d++) ne[d] = t.ne[d];
    return GLM_OK;
}

glm_context_params glm_context_default_params(void) {
    glm_context_params p;
    p.device = "cpu";
    unsigned hc = std::thread::hardware_concurrency();
    p.n_threads = hc ? (int32_t)hc : 1;
    p.kv_block_size = 16;
    p.n_kv_blocks = 0; // resolved from the model at create
    p.kv_type = GLM_KV_F16;
    p.max_batch_tokens = 2048;
    p.max_batch_seqs = 256;
    return p;
}

int64_t glm_kv_block_bytes(const glm_model *model, int32_t kv_block_size, int32_t kv_type) {
    if (!model || kv_block_size <= 0 || (kv_type != GLM_KV_F16 && kv_type != GLM_KV_F32)) return -1;
    const glm_model_hparams &hp = model->m.hp;
    return 2LL * model->m.n_layer_run * kv_block_size * hp.n_head_kv * hp.head_dim * (kv_type == GLM_KV_F32 ? 4 : 2);
}

int32_t glm_context_create(glm_model *model, const glm_context_params *params, glm_context **out) {
    CHECK_ARG(model != nullptr, "model is null");
    CHECK_ARG(out != nullptr, "out is null");
    GLM_GUARD_BEGIN
    glm_context_params p = params ? *params : glm_context_default_params();
    int cuda_device = -1;
    (void)cuda_device;
    if (p.device && std::strncmp(p.device, "cuda:", 5) == 0) {
        char *end = nullptr;
        const long n = std::strtol(p.device + 5, &end, 10);
        if (end == p.device + 5 || *end != '\0' || n < 0 || n > 1024) {
            return set_error(GLM_ERR_INVALID_ARGUMENT, "device '%.32s' is not of the form cuda:N", p.device);
        }
#ifdef GLM_HAVE_CUDA
        if (model->m.is_bert) {
            return set_error(GLM_ERR_UNSUPPORTED, "embedding models (bert) run on the CPU only, not on '%.32s'",
                             p.device);
        }
        if (model->m.moe.on) {
            return set_error(GLM_ERR_UNSUPPORTED,
                             "mixture-of-experts models (glm4moe) run on the CPU only, not on '%.32s'", p.device);
        }
        std::string why;
        if (!glm_cuda::device_available((int32_t)n, &why)) {
            return set_error(GLM_ERR_UNSUPPORTED, "device '%.32s' is not available: %s", p.device, why.c_str());
        }
        cuda_device = (int32_t)n;
        p.device = "cuda";
#else
        return set_error(GLM_ERR_UNSUPPORTED, "device '%.32s' is not available (this build has no CUDA backend)",
                         p.device);
#endif
    } else if (p.device && std::strcmp(p.device, "cpu") != 0) {
        return set_error(GLM_ERR_INVALID_ARGUMENT, "device '%.32s' is neither cpu nor cuda:N", p.device);
    } else {
        p.device = "cpu";
    }
    if (p.n_threads <= 0) p.n_threads = glm_context_default_params().n_threads;
    CHECK_ARG(p.n_threads <= 512, "n_threads %d is absurd", p.n_threads);
    if (p.kv_block_size <= 0) p.kv_block_size = 16;
    CHECK_ARG(p.kv_block_size <= 65536, "kv_block_size %d is too large", p.kv_block_size);
    CHECK_ARG(p.kv_type == GLM_KV_F16 || p.kv_type == GLM_KV_F32, "kv_type %d is neither GLM_KV_F16 nor GLM_KV_F32",
              p.kv_type);
    if (p.n_kv_blocks <= 0) p.n_kv_blocks = (model->m.hp.n_ctx_train + p.kv_block_size - 1) / p.kv_block_size;
    CHECK_ARG((int64_t)p.n_kv_blocks * p.kv_block_size <= (1LL << 30), "KV pool of %d blocks x %d tokens is too large",
              p.n_kv_blocks, p.kv_block_size);
    if (p.max_batch_tokens <= 0) p.max_batch_tokens = 2048;
    if (p.max_batch_seqs <= 0) p.max_batch_seqs = 256;
    std::unique_ptr<glm_context> c(new glm_context());
#ifdef GLM_HAVE_CUDA
    if (cuda_device >= 0) {
        // The CUDA backend owns the KV pool and scratch in device memory; the host context keeps
        // only what batch validation reads.
        c->c.model = &model->m;
        c->c.params = p;
        c->c.n_slots = (int64_t)p.n_kv_blocks * p.kv_block_size;
        glm_cuda::Params cp;
        cp.device = cuda_device;
        cp.kv_block_size = p.kv_block_size;
        cp.n_kv_blocks = p.n_kv_blocks;
        cp.kv_type = p.kv_type;
        cp.max_batch_tokens = p.max_batch_tokens;
        cp.max_batch_seqs = p.max_batch_seqs;
        std::string err;
        const int32_t st = glm_cuda::create(glm::cuda_host_model(model->m), cp, &c->cuda, &err);
        if (st != GLM_OK) return set_error(st, "CUDA context: %s", err.c_str());
        *out = c.release();
        clear_error();
        return GLM_OK;
    }
#endif
    c->c.create(&model->m, p);
    *out = c.release();
    clear_error();
    return GLM_OK;
    GLM_GUARD_END
}

void glm_context_free(glm_context *ctx) {
    try {
        delete ctx;
    } catch (...) {}
}

int32_t glm_context_get_params(const glm_context *ctx, glm_context_params *out) {
    CHECK_ARG(ctx && out, "ctx or out is null");
    *out = ctx->c.params;
    return GLM_OK;
}

int32_t glm_model_pooling(const glm_model *model) { return model && model->m.is_bert ? model->m.bert.pooling : 0; }

int32_t glm_model_max_input(const glm_model *model) {
    return model && model->m.is_bert ? (int32_t)model->m.bert.n_pos : 0;
}

int64_t glm_model_expert_bytes(const glm_model *model) { return model ? model->m.expert_bytes() : 0; }

int32_t glm_model_set_experts_from_disk(glm_model *model, int32_t on) {
    CHECK_ARG(model != nullptr, "model is null");
    CHECK_ARG(on == 0 || on == 1, "on must be 0 or 1, got %d", on);
    Model &m = model->m;
    if (!m.moe.on) return set_error(GLM_ERR_UNSUPPORTED, "experts from disk: the model has no routed experts");
    if (!m.file.mapped())
        return set_error(GLM_ERR_UNSUPPORTED, "experts from disk: the model was loaded without use_mmap");
    CHECK_ARG(!m.packed(), "experts from disk must be set before the model's first context is created");
    m.experts_from_disk = on != 0;
    return GLM_OK;
}

int32_t glm_embed(glm_context *ctx, int32_t n_seqs, const int32_t *seq_offsets, const int32_t *token_ids, float *out) {
    CHECK_ARG(ctx != nullptr, "ctx is null");
    const Context &c = ctx->c;
    if (!c.model->is_bert) {
        return set_error(GLM_ERR_UNSUPPORTED, "architecture '%s' is a generative model: it has no embeddings",
                         c.model->hp.architecture);
    }
    CHECK_ARG(n_seqs >= 1, "n_seqs %d must be >= 1", n_seqs);
    CHECK_ARG(n_seqs <= c.params.max_batch_seqs, "n_seqs %d exceeds max_batch_seqs %d", n_seqs,
              c.params.max_batch_seqs);
    CHECK_ARG(seq_offsets && token_ids && out, "seq_offsets, token_ids or out is null");
    CHECK_ARG(seq_offsets[0] == 0, "seq_offsets[0] must be 0");
    const int64_t max_len = c.model->bert.n_pos;
    for (int32_t s = 0; s < n_seqs; s++) {
        const int64_t len = (int64_t)seq_offsets[s + 1] - seq_offsets[s];
        CHECK_ARG(len >= 1, "input %d is empty (%lld tokens)", s, (long long)len);
        CHECK_ARG(len <= max_len, "input %d has %lld tokens; the model takes at most %lld", s, (long long)len,
                  (long long)max_len);
    }
    const int32_t n = seq_offsets[n_seqs];
    CHECK_ARG(n <= c.params.max_batch_tokens, "%d tokens exceed max_batch_tokens %d", n, c.params.max_batch_tokens);
    for (int32_t r = 0; r < n; r++) {
        CHECK_ARG(token_ids[r] >= 0 && token_ids[r] < c.model->hp.n_vocab, "token_ids[%d] = %d is outside 0..%d", r,
                  token_ids[r], c.model->hp.n_vocab - 1);
    }
    GLM_GUARD_BEGIN
    ctx->c.embed(n_seqs, seq_offsets, token_ids, out);
    clear_error();
    return GLM_OK;
    GLM_GUARD_END
}

int32_t glm_forward(glm_context *ctx, const glm_batch *b, float *logits) {
    CHECK_ARG(ctx != nullptr, "ctx is null");
    CHECK_ARG(b != nullptr, "batch is null");
    const Context &c = ctx->c;
    if (c.model->is_bert) {
        return set_error(GLM_ERR_UNSUPPORTED, "this is an embedding model (bert): use glm_embed, not glm_forward");
    }
    const glm_model_hparams &hp = c.model->hp;
    const int64_t bs = c.params.kv_block_size;
    CHECK_ARG(b->n_tokens >= 1, "n_tokens %d must be >= 1", b->n_tokens);
    CHECK_ARG(b->n_tokens <= c.params.max_batch_tokens, "n_tokens %d exceeds max_batch_tokens %d", b->n_tokens,
              c.params.max_batch_tokens);
    CHECK_ARG(b->n_seqs >= 1, "n_seqs %d must be >= 1", b->n_seqs);
    CHECK_ARG(b->n_seqs <= c.params.max_batch_seqs, "n_seqs %d exceeds max_batch_seqs %d", b->n_seqs,
              c.params.max_batch_seqs);
    CHECK_ARG(b->token_ids && b->seq_idx && b->positions && b->slot_mapping && b->block_table_offsets,
              "a per-token array or block_table_offsets is null");
    CHECK_ARG(b->n_logits >= 0 && b->n_logits <= b->n_tokens, "n_logits %d is outside 0..n_tokens", b->n_logits);
    CHECK_ARG(b->n_logits == 0 || (b->logit_rows && logits), "logit_rows or logits is null");
    CHECK_ARG(b->block_table_offsets[0] == 0, "block_table_offsets[0] must be 0");
    for (int32_t s = 0; s < b->n_seqs; s++) {
        CHECK_ARG(b->block_table_offsets[s + 1] >= b->block_table_offsets[s],
                  "block_table_offsets decrease at sequence %d", s);
    }
    const int32_t n_entries = b->block_table_offsets[b->n_seqs];
    CHECK_ARG(n_entries == 0 || b->block_tables, "block_tables is null");
    for (int32_t i = 0; i < n_entries; i++) {
        CHECK_ARG(b->block_tables[i] >= 0 && b->block_tables[i] < c.params.n_kv_blocks,
                  "block_tables[%d] = %d is outside the pool of %d blocks", i, b->block_tables[i],
                  c.params.n_kv_blocks);
    }
    try {
        std::vector<int64_t> slots((size_t)b->n_tokens);
        for (int32_t r = 0; r < b->n_tokens; r++) {
            CHECK_ARG(b->token_ids[r] >= 0 && b->token_ids[r] < hp.n_vocab, "token_ids[%d] = %d is outside 0..%d", r,
                      b->token_ids[r], hp.n_vocab - 1);
            const int32_t s = b->seq_idx[r];
            CHECK_ARG(s >= 0 && s < b->n_seqs, "seq_idx[%d] = %d is outside 0..%d", r, s, b->n_seqs - 1);
            const int64_t pos = b->positions[r];
            const int64_t tlen = b->block_table_offsets[s + 1] - b->block_table_offsets[s];
            CHECK_ARG(pos >= 0 && pos < tlen * bs,
                      "positions[%d] = %lld is past the block table of sequence %d (%lld blocks of %lld)", r,
                      (long long)pos, s, (long long)tlen, (long long)bs);
            const int64_t slot = b->slot_mapping[r];
            CHECK_ARG(slot >= 0 && slot < c.n_slots, "slot_mapping[%d] = %lld is outside the pool of %lld slots", r,
                      (long long)slot, (long long)c.n_slots);
            const int64_t expect = (int64_t)b->block_tables[b->block_table_offsets[s] + pos / bs] * bs + pos % bs;
            CHECK_ARG(
                slot == expect,
                "slot_mapping[%d] = %lld disagrees with the block table of sequence %d at position %lld (slot %lld)", r,
                (long long)slot, s, (long long)pos, (long long)expect);
            slots[(size_t)r] = slot;
        }
        std::sort(slots.begin(), slots.end());
        for (size_t i = 1; i < slots.size(); i++) {
            CHECK_ARG(slots[i] != slots[i - 1], "slot %lld is written by two rows of the batch", (long long)slots[i]);
        }
        for (int32_t i = 0; i < b->n_logits; i++) {
            CHECK_ARG(b->logit_rows[i] >= 0 && b->logit_rows[i] < b->n_tokens, "logit_rows[%d] = %d is outside 0..%d",
                      i, b->logit_rows[i], b->n_tokens - 1);
        }
    } catch (const std::bad_alloc &) {
        return set_error(GLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    GLM_GUARD_BEGIN
#ifdef GLM_HAVE_CUDA
    if (ctx->cuda) {
        std::string err;
        const int32_t st = glm_cuda::forward(ctx->cuda, b, logits, &err);
        if (st != GLM_OK) return set_error(st, "CUDA forward: %s", err.c_str());
        clear_error();
        return GLM_OK;
    }
#endif
    ctx->c.forward(*b, logits);
    clear_error();
    return GLM_OK;
    GLM_GUARD_END
}

int32_t glm_context_triad(glm_context *ctx, int64_t array_bytes, int32_t reps, double *bytes_per_second) {
    CHECK_ARG(ctx != nullptr, "ctx is null");
    CHECK_ARG(bytes_per_second != nullptr, "bytes_per_second is null");
    CHECK_ARG(array_bytes >= (1 << 20), "array_bytes %lld is under 1 MiB", (long long)array_bytes);
    CHECK_ARG(reps >= 1, "reps %d must be >= 1", reps);
#ifdef GLM_HAVE_CUDA
    if (ctx->cuda) return set_error(GLM_ERR_UNSUPPORTED, "the triad measures host memory: use a CPU context");
#endif
    GLM_GUARD_BEGIN
    *bytes_per_second = ctx->c.triad(array_bytes, reps);
    clear_error();
    return GLM_OK;
    GLM_GUARD_END
}

int32_t glm_context_profile(glm_context *ctx, int32_t enable, int32_t n, double *seconds) {
    CHECK_ARG(ctx != nullptr, "ctx is null");
    CHECK_ARG(seconds == nullptr || n >= 0, "n %d must be >= 0", n);
#ifdef GLM_HAVE_CUDA
    if (ctx->cuda) return set_error(GLM_ERR_UNSUPPORTED, "the profile times the CPU forward pass");
#endif
    Context &c = ctx->c;
    if (seconds) {
        for (int32_t i = 0; i < std::min<int32_t>(n, GLM_PROF_COUNT); i++) seconds[i] = c.prof[i];
        for (double &v : c.prof) v = 0;
    }
    c.profile = enable != 0;
    clear_error();
    return GLM_OK;
}

} // extern "C"
