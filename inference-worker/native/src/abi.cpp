// Self-description for bindings that mirror glm.h by hand (the Java FFM binding, GlmNative.java):
// the ggml type table and the offset and size of every field of every public struct, as this build
// lays them out. The Java tests GgmlTypeTableTest and StructLayoutTest compare theirs with these.
#include <cstddef>

#include "common.h"

namespace {

struct FieldLayout {
    const char *struct_name;
    const char *field; // "" for the struct itself
    int64_t offset;
    int64_t size;
};

#define GLM_STRUCT(S)                                                                                                  \
    { #S, "", 0, (int64_t)sizeof(S) }
#define GLM_FIELD(S, F)                                                                                                \
    { #S, #F, (int64_t)offsetof(S, F), (int64_t)sizeof(((S *)nullptr)->F) }

const FieldLayout kLayouts[] = {
    GLM_STRUCT(glm_model_params),
    GLM_FIELD(glm_model_params, use_mmap),
    GLM_FIELD(glm_model_params, validate_data),

    GLM_STRUCT(glm_model_hparams),
    GLM_FIELD(glm_model_hparams, architecture),
    GLM_FIELD(glm_model_hparams, n_vocab),
    GLM_FIELD(glm_model_hparams, n_ctx_train),
    GLM_FIELD(glm_model_hparams, n_embd),
    GLM_FIELD(glm_model_hparams, n_layer),
    GLM_FIELD(glm_model_hparams, n_head),
    GLM_FIELD(glm_model_hparams, n_head_kv),
    GLM_FIELD(glm_model_hparams, head_dim),
    GLM_FIELD(glm_model_hparams, n_rot),
    GLM_FIELD(glm_model_hparams, n_ff),
    GLM_FIELD(glm_model_hparams, rope_freq_base),
    GLM_FIELD(glm_model_hparams, rms_norm_eps),
    GLM_FIELD(glm_model_hparams, file_type),
    GLM_FIELD(glm_model_hparams, n_params),
    GLM_FIELD(glm_model_hparams, n_weight_bytes),

    GLM_STRUCT(glm_context_params),
    GLM_FIELD(glm_context_params, device),
    GLM_FIELD(glm_context_params, n_threads),
    GLM_FIELD(glm_context_params, kv_block_size),
    GLM_FIELD(glm_context_params, n_kv_blocks),
    GLM_FIELD(glm_context_params, kv_type),
    GLM_FIELD(glm_context_params, max_batch_tokens),
    GLM_FIELD(glm_context_params, max_batch_seqs),

    GLM_STRUCT(glm_batch),
    GLM_FIELD(glm_batch, n_tokens),
    GLM_FIELD(glm_batch, token_ids),
    GLM_FIELD(glm_batch, seq_idx),
    GLM_FIELD(glm_batch, positions),
    GLM_FIELD(glm_batch, slot_mapping),
    GLM_FIELD(glm_batch, n_seqs),
    GLM_FIELD(glm_batch, block_table_offsets),
    GLM_FIELD(glm_batch, block_tables),
    GLM_FIELD(glm_batch, n_logits),
    GLM_FIELD(glm_batch, logit_rows),
};

#undef GLM_STRUCT
#undef GLM_FIELD

constexpr int64_t kLayoutCount = (int64_t)(sizeof(kLayouts) / sizeof(kLayouts[0]));

} // namespace

extern "C" {

int32_t glm_type_info(int32_t type, const char **name, int32_t *block_size, int32_t *type_size, int32_t *runnable) {
    const glm::TypeInfo ti = glm::type_info(type);
    if (ti.name == nullptr) return glm::set_error(GLM_ERR_NOT_FOUND, "no ggml type %d in the type table", type);
    if (name) *name = ti.name;
    if (block_size) *block_size = ti.block;
    if (type_size) *type_size = ti.bytes;
    if (runnable) *runnable = ti.runnable ? 1 : 0;
    glm::clear_error();
    return GLM_OK;
}

int64_t glm_struct_layout_count(void) { return kLayoutCount; }

int32_t glm_struct_layout(int64_t index, const char **struct_name, const char **field, int64_t *offset, int64_t *size) {
    if (index < 0 || index >= kLayoutCount) {
        return glm::set_error(GLM_ERR_INVALID_ARGUMENT, "struct layout index %lld is outside 0..%lld", (long long)index,
                              (long long)(kLayoutCount - 1));
    }
    const FieldLayout &l = kLayouts[index];
    if (struct_name) *struct_name = l.struct_name;
    if (field) *field = l.field;
    if (offset) *offset = l.offset;
    if (size) *size = l.size;
    glm::clear_error();
    return GLM_OK;
}

} // extern "C"
