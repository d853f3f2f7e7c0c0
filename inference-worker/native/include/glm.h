/*
 * glm.h — the public C API of the GLM MaaS native engine.
 *
 * Small and opaque, in the style of llama.h: handles with explicit create/free, *_default_params()
 * structs, an int32_t status from every fallible call, and glm_last_error() for the message of the
 * most recent failure on the calling thread. No C++ type or exception crosses this boundary.
 *
 * The engine owns model files and math: it memory-maps a GGUF file, exposes its metadata, holds the
 * weights, owns a KV-cache pool of fixed-size blocks, and runs one forward step over a mixed batch
 * of many sequences. The caller owns requests: it decides which KV blocks belong to which sequence
 * (block tables) and where each new token's K/V goes (slot mapping). There is no hidden "current
 * sequence" state.
 *
 * Thread safety: a glm_model is immutable after load and may be shared by contexts. A glm_context
 * must be used by one thread at a time.
 */
#ifndef GLM_H
#define GLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define GLM_API __declspec(dllexport)
#else
#define GLM_API __attribute__((visibility("default")))
#endif

/* Bumped on every incompatible change of this header; Java checks it at load. */
#define GLM_ABI_VERSION 1

/* Status codes. On failure, glm_last_error() describes it and out-parameters are untouched. */
enum glm_status {
    GLM_OK = 0,
    GLM_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a bad id, a batch that breaks its own rules */
    GLM_ERR_IO = 2,               /* the file cannot be opened or mapped                          */
    GLM_ERR_FORMAT = 3,           /* not a valid GGUF v3 file, or a field out of bounds           */
    GLM_ERR_UNSUPPORTED = 4,      /* valid file, but an architecture or tensor type we do not run */
    GLM_ERR_OUT_OF_MEMORY = 5,
    GLM_ERR_INTERNAL = 6,
    GLM_ERR_NOT_FOUND = 7 /* a metadata key or tensor that is not there                   */
};

/* GGUF metadata value types (the numbers of the GGUF specification). */
enum glm_meta_type {
    GLM_META_UINT8 = 0,
    GLM_META_INT8 = 1,
    GLM_META_UINT16 = 2,
    GLM_META_INT16 = 3,
    GLM_META_UINT32 = 4,
    GLM_META_INT32 = 5,
    GLM_META_FLOAT32 = 6,
    GLM_META_BOOL = 7,
    GLM_META_STRING = 8,
    GLM_META_ARRAY = 9,
    GLM_META_UINT64 = 10,
    GLM_META_INT64 = 11,
    GLM_META_FLOAT64 = 12
};

/* KV-cache storage types. */
enum glm_kv_type { GLM_KV_F16 = 0, GLM_KV_F32 = 1 };

typedef struct glm_model glm_model;
typedef struct glm_context glm_context;

GLM_API int32_t glm_abi_version(void);
/* Message of the last failed call on this thread ("" if none). Valid until the next call. */
GLM_API const char *glm_last_error(void);
/* Build and CPU facts, e.g. "cpu: avx2 fma f16c avx512f avx512vnni; cuda: no". */
GLM_API const char *glm_system_info(void);

/* ---- model ------------------------------------------------------------------------------- */

typedef struct glm_model_params {
    int32_t use_mmap;      /* 1 (default): weights are read from the mapping, not copied       */
    int32_t validate_data; /* 1: also scan tensor data for NaN/Inf at load (slow); default 0    */
} glm_model_params;

GLM_API glm_model_params glm_model_default_params(void);

/* Loads and validates a GGUF v3 file. Every offset and size is checked against the file; any
 * inconsistency (truncation, absurd counts, overlapping tensors, shapes that disagree with the
 * hyper-parameters, unknown architecture or tensor type) fails with a message, never a crash. */
GLM_API int32_t glm_model_load(const char *path, const glm_model_params *params, glm_model **out);
GLM_API void glm_model_free(glm_model *model);

typedef struct glm_model_hparams {
    char architecture[32]; /* "chatglm", "glm4" or "bert", NUL-terminated */
    int32_t n_vocab;       /* tokens                               */
    int32_t n_ctx_train;   /* tokens                               */
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;
    int32_t n_rot; /* rotated dims per head                */
    int32_t n_ff;  /* width of one half of the fused FFN   */
    float rope_freq_base;
    float rms_norm_eps;     /* bert: the LayerNorm epsilon           */
    int32_t file_type;      /* general.file_type, -1 when absent    */
    int64_t n_params;       /* parameters, count                    */
    int64_t n_weight_bytes; /* bytes of all tensor data             */
} glm_model_hparams;

GLM_API int32_t glm_model_get_hparams(const glm_model *model, glm_model_hparams *out);

/* Metadata: every key/value pair of the file, by index (file order) or by key. Strings are
 * returned as pointer + length into the mapping (not NUL-terminated), valid while the model lives. */
GLM_API int64_t glm_meta_count(const glm_model *model);
GLM_API int32_t glm_meta_key(const glm_model *model, int64_t index, const char **key, int64_t *key_len);
/* Index of `key` (NUL-terminated), or -1 when absent. */
GLM_API int64_t glm_meta_find(const glm_model *model, const char *key);
/* Value type (enum glm_meta_type) of entry `index`, or -1 for a bad index. */
GLM_API int32_t glm_meta_type(const glm_model *model, int64_t index);
/* Scalars. Integer types of any width read through get_i64 (uint64 values above INT64_MAX fail),
 * float32/float64 through get_f64, bool through get_i64 (0 or 1). */
GLM_API int32_t glm_meta_get_i64(const glm_model *model, int64_t index, int64_t *out);
GLM_API int32_t glm_meta_get_f64(const glm_model *model, int64_t index, double *out);
GLM_API int32_t glm_meta_get_str(const glm_model *model, int64_t index, const char **str, int64_t *len);
/* Arrays: element type and length; elements of string arrays one by one; numeric arrays as a
 * pointer to their packed little-endian data (element size from the type). */
GLM_API int32_t glm_meta_arr_info(const glm_model *model, int64_t index, int32_t *elem_type, int64_t *len);
GLM_API int32_t glm_meta_arr_str(const glm_model *model, int64_t index, int64_t i, const char **str, int64_t *len);
GLM_API int32_t glm_meta_arr_data(const glm_model *model, int64_t index, const void **data);

/* Tensors, for listing tools. type is the ggml type number (0 F32, 1 F16, 2 Q4_0, 8 Q8_0,
 * 12 Q4_K, 13 Q5_K, 14 Q6_K, 30 BF16). */
GLM_API int64_t glm_tensor_count(const glm_model *model);
GLM_API int32_t glm_tensor_info(const glm_model *model, int64_t index, const char **name, int32_t *type,
                                int32_t *n_dims, int64_t ne[4]);

/* ---- context ------------------------------------------------------------------------------ */

typedef struct glm_context_params {
    const char *device;       /* "cpu" (default) or "cuda:N"                                 */
    int32_t n_threads;        /* compute threads of the persistent pool; default: 1 per core */
    int32_t kv_block_size;    /* tokens per KV block; default 16                              */
    int32_t n_kv_blocks;      /* blocks in the KV pool; default: enough for n_ctx_train       */
    int32_t kv_type;          /* enum glm_kv_type; default GLM_KV_F16                         */
    int32_t max_batch_tokens; /* most tokens one glm_forward call may carry; default 2048     */
    int32_t max_batch_seqs;   /* most sequences one call may carry; default 256               */
} glm_context_params;

GLM_API glm_context_params glm_context_default_params(void);

/* Bytes of one KV block (K and V, all layers) for this model, block size and kv_type: the unit of
 * sizing a pool from a memory budget. */
GLM_API int64_t glm_kv_block_bytes(const glm_model *model, int32_t kv_block_size, int32_t kv_type);

GLM_API int32_t glm_context_create(glm_model *model, const glm_context_params *params, glm_context **out);
GLM_API void glm_context_free(glm_context *ctx);
/* The effective parameters (defaults resolved). */
GLM_API int32_t glm_context_get_params(const glm_context *ctx, glm_context_params *out);

/* One forward step over a mixed batch (prefill chunks and decode tokens of many sequences).
 *
 * Row r (0 <= r < n_tokens) is token token_ids[r] of sequence seq_idx[r] at position positions[r].
 * Its K/V are written to slot slot_mapping[r] = block * kv_block_size + offset before attention;
 * then it attends to positions 0..positions[r] of its own sequence, found through that sequence's
 * block table: position p lives in block block_tables[block_table_offsets[s] + p / kv_block_size]
 * at offset p % kv_block_size. Sequence s's table is block_tables[block_table_offsets[s] ..
 * block_table_offsets[s+1]) (CSR layout, n_seqs + 1 offsets).
 *
 * Logits (n_vocab floats per row, f32) are written for rows logit_rows[0..n_logits) into
 * `logits`, row i at logits + i * n_vocab.
 *
 * A sequence's logits do not depend on what else is in the batch or on the thread count (batch
 * invariance): they are bit-identical whether it runs alone or among others.
 *
 * Fails with GLM_ERR_INVALID_ARGUMENT (and writes no KV) when the batch breaks these rules: ids out
 * of range, a slot or block outside the pool, a position past the block table, more rows or
 * sequences than the context was created for. */
typedef struct glm_batch {
    int32_t n_tokens;
    const int32_t *token_ids;    /* [n_tokens]    */
    const int32_t *seq_idx;      /* [n_tokens]    */
    const int32_t *positions;    /* [n_tokens]    */
    const int32_t *slot_mapping; /* [n_tokens]    */
    int32_t n_seqs;
    const int32_t *block_table_offsets; /* [n_seqs + 1]  */
    const int32_t *block_tables;        /* [block_table_offsets[n_seqs]] */
    int32_t n_logits;
    const int32_t *logit_rows; /* [n_logits]    */
} glm_batch;

GLM_API int32_t glm_forward(glm_context *ctx, const glm_batch *batch, float *logits);

/* ---- embeddings (encoder models) --------------------------------------------------------- */

/* Pooling of an encoder model (bert.pooling_type: 1 mean, 2 cls, 3 last), or 0 for a decoder
 * (generative) model, whose contexts run glm_forward; an encoder's run glm_embed. */
GLM_API int32_t glm_model_pooling(const glm_model *model);
/* Longest input an encoder model takes (rows of its position table), 0 for a decoder. */
GLM_API int32_t glm_model_max_input(const glm_model *model);

/* ---- mixture of experts (glm4moe) -------------------------------------------------------- */

/* Bytes of the routed experts' tensors (the 3-D *_exps matrices), 0 for a dense model. */
GLM_API int64_t glm_model_expert_bytes(const glm_model *model);
/* Experts from disk: when on (1), the CPU engine leaves the routed experts in the file mapping
 * instead of repacking them into memory, so they are paged in from the file on demand (slow: a
 * token reads its experts from disk unless the page cache holds them) and need no resident copy.
 * For models whose experts do not fit in RAM. Needs a memory-mapped, MoE model, and must be set
 * before the first context is created (else GLM_ERR_INVALID_ARGUMENT); GLM_ERR_UNSUPPORTED for a
 * dense or unmapped model. */
GLM_API int32_t glm_model_set_experts_from_disk(glm_model *model, int32_t on);

/* Embeds n_seqs whole inputs in one step: input s is token_ids[seq_offsets[s] .. seq_offsets[s+1])
 * (CSR, n_seqs + 1 offsets, seq_offsets[0] = 0), at positions 0..len-1, attending to all of its own
 * tokens and to no other input. Writes each input's pooled (not normalised) vector, n_embd floats,
 * at out + s * n_embd. No state is kept after the call. Batch invariant: an input's vector is
 * bit-identical alone or among others. Fails with GLM_ERR_INVALID_ARGUMENT for an empty input, an
 * input longer than glm_model_max_input (the message names the input), an id out of range, or more
 * tokens/inputs than the context's max_batch_tokens/max_batch_seqs; GLM_ERR_UNSUPPORTED for a
 * decoder model. */
GLM_API int32_t glm_embed(glm_context *ctx, int32_t n_seqs, const int32_t *seq_offsets, const int32_t *token_ids,
                          float *out);

/* ---- measurement (benchmarks; not needed to serve) ----------------------------------------- */

/* The machine's memory bandwidth as this context's threads see it: a STREAM triad
 * a[i] = b[i] + 3 * c[i] over three arrays of doubles of array_bytes each (make them several times
 * the last-level cache), split into chunks claimed by the context's thread pool the way matrix
 * products are, one untimed pass then `reps` timed passes. Writes the best pass's bytes per second,
 * counted as STREAM counts them (3 * array_bytes per pass, write-allocate traffic not counted).
 * Arrays of up to 64 MiB stay with the context until a call with another array_bytes or
 * glm_context_free, and a call that finds them skips the untimed pass (so one short pass can sit
 * between two forwards); larger ones are freed before the call returns.
 * GLM_ERR_INVALID_ARGUMENT for array_bytes < 1 MiB or reps < 1; GLM_ERR_UNSUPPORTED on a CUDA
 * context. */
GLM_API int32_t glm_context_triad(glm_context *ctx, int64_t array_bytes, int32_t reps, double *bytes_per_second);

/* Phases of glm_forward that the profile times (wall time on the calling thread; every phase ends
 * at the pool's barrier, so a phase's time is the slowest thread's). */
enum glm_profile_phase {
    GLM_PROF_EMBED = 0,    /* token embedding rows, RoPE tables                               */
    GLM_PROF_NORM = 1,     /* RMS norms and residual adds                                     */
    GLM_PROF_QKV = 2,      /* the Q, K, V products (with biases)                              */
    GLM_PROF_ROPE = 3,     /* RoPE, q/k norms, K/V stores into the cache                      */
    GLM_PROF_ATTN = 4,     /* attention over the cache                                        */
    GLM_PROF_WO = 5,       /* the attention output product                                    */
    GLM_PROF_FFN_UP = 6,   /* the FFN gate+up products (dense layers) or the whole MoE FFN    */
    GLM_PROF_SILU = 7,     /* SiLU(gate) * up                                                 */
    GLM_PROF_FFN_DOWN = 8, /* the FFN down product (dense layers)                            */
    GLM_PROF_OUTPUT = 9,   /* the final norm and the output head                              */
    GLM_PROF_COUNT = 10
};

/* Per-phase profile of glm_forward on a CPU context. enable != 0 turns it on (off by default; off
 * costs nothing), 0 turns it off. When seconds is not null, copies min(n, GLM_PROF_COUNT) totals
 * accumulated since the last call (seconds per phase, indexed by glm_profile_phase) and resets
 * them. GLM_ERR_UNSUPPORTED on a CUDA context. */
GLM_API int32_t glm_context_profile(glm_context *ctx, int32_t enable, int32_t n, double *seconds);

/* ---- self-description, for bindings that mirror this header by hand ------------------------ */

/* The ggml tensor type numbered `type` in GGUF files: its name (static, NUL-terminated), values per
 * block, bytes per block, and whether this engine computes with it (1) or only sizes it (0). Out
 * pointers may be null. GLM_ERR_NOT_FOUND for a number the engine's type table lacks. */
GLM_API int32_t glm_type_info(int32_t type, const char **name, int32_t *block_size, int32_t *type_size,
                              int32_t *runnable);

/* The layout of the structs of this header as this build lays them out. Entry `index`
 * (0 <= index < glm_struct_layout_count()) is one field of one struct (struct_name: the typedef,
 * e.g. "glm_batch"; field: as declared) with its offsetof and sizeof, or, for field "", the
 * struct's own sizeof (offset 0). Strings are static. */
GLM_API int64_t glm_struct_layout_count(void);
GLM_API int32_t glm_struct_layout(int64_t index, const char **struct_name, const char **field, int64_t *offset,
                                  int64_t *size);

#ifdef __cplusplus
}
#endif

#endif /* GLM_H */
