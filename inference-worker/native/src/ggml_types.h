// The ggml tensor types a GGUF file may name: the one table of their block geometry in C/C++.
// Every block-size or bytes-per-block constant of the engine (parser, dequantisation, kernels,
// packing, CUDA upload) derives from type_info() below; glm_type_info() exports it so that the
// Java table (org.glmmaas.worker.gguf.GgmlType) is checked against it (GgmlTypeTableTest).
// Plain C++17 with no other include, so that nvcc compiles it too.
#pragma once

#include <cstdint>

namespace glm {

// Type numbers as GGUF stores them (ggml's enum ggml_type); named here: the ones the engine uses.
enum GgmlType : int32_t {
    T_F32 = 0,
    T_F16 = 1,
    T_Q4_0 = 2,
    T_Q4_1 = 3,
    T_Q5_0 = 6,
    T_Q5_1 = 7,
    T_Q8_0 = 8,
    T_Q8_1 = 9,
    T_Q2_K = 10,
    T_Q3_K = 11,
    T_Q4_K = 12,
    T_Q5_K = 13,
    T_Q6_K = 14,
    T_Q8_K = 15,
    T_BF16 = 30,
};

// Block size (values) and bytes per block for every ggml type a GGUF file may name; name nullptr
// and 0/0 when the type number is unknown. Used to size tensors even of types we do not run;
// runnable: the engine computes with tensors of this type.
struct TypeInfo {
    const char *name;
    int32_t block;
    int32_t bytes;
    bool runnable;
};

constexpr TypeInfo type_info(int32_t type) {
    switch (type) {
        case T_F32:
            return {"F32", 1, 4, true};
        case T_F16:
            return {"F16", 1, 2, true};
        case T_Q4_0:
            return {"Q4_0", 32, 18, true};
        case T_Q4_1:
            return {"Q4_1", 32, 20, false};
        case T_Q5_0:
            return {"Q5_0", 32, 22, false};
        case T_Q5_1:
            return {"Q5_1", 32, 24, false};
        case T_Q8_0:
            return {"Q8_0", 32, 34, true};
        case T_Q8_1:
            return {"Q8_1", 32, 36, false};
        case T_Q2_K:
            return {"Q2_K", 256, 84, false};
        case T_Q3_K:
            return {"Q3_K", 256, 110, false};
        case T_Q4_K:
            return {"Q4_K", 256, 144, true};
        case T_Q5_K:
            return {"Q5_K", 256, 176, true};
        case T_Q6_K:
            return {"Q6_K", 256, 210, true};
        case T_Q8_K:
            return {"Q8_K", 256, 292, false};
        case 16:
            return {"IQ2_XXS", 256, 66, false};
        case 17:
            return {"IQ2_XS", 256, 74, false};
        case 18:
            return {"IQ3_XXS", 256, 98, false};
        case 19:
            return {"IQ1_S", 256, 50, false};
        case 20:
            return {"IQ4_NL", 32, 18, false};
        case 21:
            return {"IQ3_S", 256, 110, false};
        case 22:
            return {"IQ2_S", 256, 82, false};
        case 23:
            return {"IQ4_XS", 256, 136, false};
        case 24:
            return {"I8", 1, 1, false};
        case 25:
            return {"I16", 1, 2, false};
        case 26:
            return {"I32", 1, 4, false};
        case 27:
            return {"I64", 1, 8, false};
        case 28:
            return {"F64", 1, 8, false};
        case 29:
            return {"IQ1_M", 256, 56, false};
        case T_BF16:
            return {"BF16", 1, 2, true};
        case 34:
            return {"TQ1_0", 256, 54, false};
        case 35:
            return {"TQ2_0", 256, 66, false};
        case 39:
            return {"MXFP4", 32, 17, false};
        default:
            return {nullptr, 0, 0, false};
    }
}

// Block geometry of the quantised types the kernels read, named for their loops.
inline constexpr int QK4_0 = type_info(T_Q4_0).block;
inline constexpr int QK8_0 = type_info(T_Q8_0).block;
inline constexpr int QK_K = type_info(T_Q6_K).block;
inline constexpr int kQ4_0Bytes = type_info(T_Q4_0).bytes;
inline constexpr int kQ8_0Bytes = type_info(T_Q8_0).bytes;
inline constexpr int kQ4KBytes = type_info(T_Q4_K).bytes;
inline constexpr int kQ5KBytes = type_info(T_Q5_K).bytes;
inline constexpr int kQ6KBytes = type_info(T_Q6_K).bytes;
static_assert(QK_K == type_info(T_Q4_K).block && QK_K == type_info(T_Q5_K).block, "one K-quant super-block");

} // namespace glm
