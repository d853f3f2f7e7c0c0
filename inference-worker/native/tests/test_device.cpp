// Device selection through the public API: "cpu" and "cuda:N" are the only forms; a CUDA device
// that is not there (no GPU, no driver, or a build without CUDA) is a clear GLM_ERR_UNSUPPORTED,
// never a crash; where a GPU is present, the CUDA context's logits agree with the CPU's.
//   test_device MODEL.gguf   (skips when the model file is absent)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "glm.h"

static int failures = 0;
#define EXPECT(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

static glm_context *make(glm_model *m, const char *device, int32_t *status) {
    glm_context_params p = glm_context_default_params();
    p.device = device;
    p.n_threads = 1;
    p.n_kv_blocks = 8;
    p.kv_type = GLM_KV_F32;
    glm_context *c = nullptr;
    *status = glm_context_create(m, &p, &c);
    return c;
}

static std::vector<float> run(glm_context *c, int n_vocab) {
    const int32_t ids[4] = {1, 2, 3, 4}, seq[4] = {0, 0, 0, 0}, pos[4] = {0, 1, 2, 3}, slots[4] = {16, 17, 18, 19};
    const int32_t off[2] = {0, 1}, table[1] = {1}, rows[1] = {3};
    glm_batch b{};
    b.n_tokens = 4;
    b.token_ids = ids;
    b.seq_idx = seq;
    b.positions = pos;
    b.slot_mapping = slots;
    b.n_seqs = 1;
    b.block_table_offsets = off;
    b.block_tables = table;
    b.n_logits = 1;
    b.logit_rows = rows;
    std::vector<float> out((size_t)n_vocab);
    if (glm_forward(c, &b, out.data()) != GLM_OK) {
        fprintf(stderr, "forward failed: %s\n", glm_last_error());
        failures++;
    }
    return out;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_device MODEL\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        printf("test_device: %s absent, skipped\n", argv[1]);
        return 0;
    }
    fclose(f);
    glm_model *m = nullptr;
    glm_model_params mp = glm_model_default_params();
    if (glm_model_load(argv[1], &mp, &m) != GLM_OK) {
        fprintf(stderr, "load: %s\n", glm_last_error());
        return 1;
    }
    glm_model_hparams hp;
    glm_model_get_hparams(m, &hp);

    int32_t st;
    for (const char *bad : {"tpu", "cuda", "cuda:", "cuda:x", "cuda:-1", "CPU "}) {
        glm_context *c = make(m, bad, &st);
        EXPECT(st == GLM_ERR_INVALID_ARGUMENT && c == nullptr, "device '%s' gave status %d", bad, st);
        EXPECT(std::strstr(glm_last_error(), "device") != nullptr, "message for '%s': %s", bad, glm_last_error());
    }
    glm_context *cpu = make(m, "cpu", &st);
    EXPECT(st == GLM_OK && cpu, "cpu context: %s", glm_last_error());
    const std::vector<float> ref = run(cpu, hp.n_vocab);

    glm_context *gpu = make(m, "cuda:0", &st);
    if (st == GLM_OK) {
        const std::vector<float> got = run(gpu, hp.n_vocab);
        double md = 0;
        for (size_t i = 0; i < ref.size(); i++) md = std::fmax(md, std::fabs(ref[i] - got[i]));
        EXPECT(md < 1e-3, "cuda:0 logits differ from cpu by %g", md);
        printf("test_device: cuda:0 present, max |cpu - cuda| = %g\n", md);
        glm_context_free(gpu);
    } else {
        EXPECT(st == GLM_ERR_UNSUPPORTED && gpu == nullptr, "cuda:0 without a GPU gave status %d", st);
        EXPECT(std::strstr(glm_last_error(), "cuda:0") != nullptr, "message: %s", glm_last_error());
        printf("test_device: no CUDA device here (%s)\n", glm_last_error());
    }
    glm_context *far = make(m, "cuda:999", &st);
    EXPECT(st != GLM_OK && far == nullptr, "cuda:999 gave status %d", st);
    glm_context_free(cpu);
    glm_model_free(m);
    if (failures) {
        fprintf(stderr, "test_device: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_device: ok\n");
    return 0;
}
