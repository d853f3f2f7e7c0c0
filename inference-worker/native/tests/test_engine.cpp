// Engine tests on small random models: batch invariance (a sequence's logits are bit-identical
// alone, inside a batch of 16 other sequences at other positions, with 1 or 2 threads), prefill
// vs token-by-token agreement, and batch validation that rejects bad batches without writing KV.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "glm.h"

static int g_failures = 0;
#include "gguf_writer.h"

namespace {

struct Seq {
    std::vector<int32_t> ids;   // whole sequence
    std::vector<int32_t> table; // its blocks
};

constexpr int BS = 16;

// Runs `steps` as a list of (seq, first position, count) chunks in one forward call; returns the
// logits of the last row of every chunk.
struct Chunk {
    int seq;
    int pos;
    int count;
};

int32_t run(glm_context *c, const std::vector<Seq> &seqs, const std::vector<Chunk> &chunks, int nv,
            std::vector<float> &out) {
    std::vector<int32_t> tok, sidx, pos, slot, offs{0}, tables, lrows;
    for (const Seq &s : seqs) {
        tables.insert(tables.end(), s.table.begin(), s.table.end());
        offs.push_back((int32_t)tables.size());
    }
    for (size_t k = 0; k < chunks.size(); k++) {
        const Chunk &ch = chunks[k];
        for (int i = 0; i < ch.count; i++) {
            const int p = ch.pos + i;
            tok.push_back(seqs[ch.seq].ids[p]);
            sidx.push_back(ch.seq);
            pos.push_back(p);
            slot.push_back(seqs[ch.seq].table[p / BS] * BS + p % BS);
        }
        lrows.push_back((int32_t)tok.size() - 1);
    }
    out.assign(lrows.size() * (size_t)nv, 0.0f);
    glm_batch b{(int32_t)tok.size(),   tok.data(),           sidx.data(), pos.data(),
                slot.data(),           (int32_t)seqs.size(), offs.data(), tables.data(),
                (int32_t)lrows.size(), lrows.data()};
    return glm_forward(c, &b, out.data());
}

glm_context *make_ctx(glm_model *m, int threads, int kv_type, int blocks = 64) {
    glm_context_params p = glm_context_default_params();
    p.n_threads = threads;
    p.kv_block_size = BS;
    p.n_kv_blocks = blocks;
    p.kv_type = kv_type;
    glm_context *c = nullptr;
    if (glm_context_create(m, &p, &c) != GLM_OK) std::fprintf(stderr, "context: %s\n", glm_last_error());
    return c;
}

void batch_invariance(const char *label, const testgguf::ModelSpec &spec, bool experts_from_disk = false) {
    std::string path = testgguf::write_temp(testgguf::make_model(spec).bytes(), label);
    glm_model *m = nullptr;
    if (glm_model_load(path.c_str(), nullptr, &m) != GLM_OK) {
        CHECK(false, "%s load: %s", label, glm_last_error());
        return;
    }
    if (experts_from_disk)
        CHECK(glm_model_set_experts_from_disk(m, 1) == GLM_OK, "%s experts from disk: %s", label, glm_last_error());
    glm_model_hparams hp;
    glm_model_get_hparams(m, &hp);
    const int nv = hp.n_vocab;
    std::mt19937 rng(99);
    // 17 sequences of different lengths, with disjoint block sets.
    std::vector<Seq> seqs(17);
    int next_block = 0;
    for (int s = 0; s < 17; s++) {
        const int len = s == 0 ? 22 : 16 + (int)(rng() % 24);
        for (int i = 0; i < len; i++) seqs[s].ids.push_back((int32_t)(rng() % nv));
        for (int b = 0; b < (len + BS - 1) / BS; b++) seqs[s].table.push_back(next_block++);
    }
    // Reference: sequence 0 alone, 1 thread: prefill 12 tokens, then decode one token at a time.
    const int pre = 12;
    auto alone = [&](int threads, int kv_type) {
        std::vector<float> all, out;
        glm_context *c = make_ctx(m, threads, kv_type);
        std::vector<Seq> one{seqs[0]};
        CHECK(run(c, one, {{0, 0, pre}}, nv, out) == GLM_OK, "alone prefill: %s", glm_last_error());
        all.insert(all.end(), out.begin(), out.end());
        for (int p = pre; p < (int)seqs[0].ids.size(); p++) {
            CHECK(run(c, one, {{0, p, 1}}, nv, out) == GLM_OK, "alone decode: %s", glm_last_error());
            all.insert(all.end(), out.begin(), out.end());
        }
        glm_context_free(c);
        return all;
    };
    for (int kv_type : {GLM_KV_F16, GLM_KV_F32}) {
        const std::vector<float> ref = alone(1, kv_type);
        CHECK(alone(2, kv_type) == ref, "%s kv%d: 1 vs 2 threads differ", label, kv_type);
        // Mixed: seq 0 runs the same schedule while the 16 others prefill and decode at other positions.
        for (int threads : {1, 2}) {
            glm_context *c = make_ctx(m, threads, kv_type);
            std::vector<float> got, out;
            std::vector<int> done(17, 0);
            // Other sequences start with prefills of different lengths in the first step.
            std::vector<Chunk> first{{0, 0, pre}};
            for (int s = 1; s < 17; s++) {
                const int n = 3 + s % 7;
                first.push_back({s, 0, n});
                done[s] = n;
            }
            CHECK(run(c, seqs, first, nv, out) == GLM_OK, "mixed prefill: %s", glm_last_error());
            got.insert(got.end(), out.begin(), out.begin() + nv);
            for (int p = pre; p < (int)seqs[0].ids.size(); p++) {
                std::vector<Chunk> step;
                // Put seq 0 in the middle of the batch; others advance by 1 or 2 tokens.
                for (int s = 1; s < 17; s++) {
                    if (s == 9) step.push_back({0, p, 1});
                    const int n = 1 + (s + p) % 2;
                    if (done[s] + n <= (int)seqs[s].ids.size()) {
                        step.push_back({s, done[s], n});
                        done[s] += n;
                    }
                }
                CHECK(run(c, seqs, step, nv, out) == GLM_OK, "mixed decode: %s", glm_last_error());
                for (size_t k = 0; k < step.size(); k++)
                    if (step[k].seq == 0)
                        got.insert(got.end(), out.begin() + (long)k * nv, out.begin() + (long)(k + 1) * nv);
            }
            CHECK(got.size() == ref.size() && std::memcmp(got.data(), ref.data(), ref.size() * 4) == 0,
                  "%s kv%d threads %d: logits in a batch of 17 differ from the sequence alone", label, kv_type,
                  threads);
            glm_context_free(c);
        }
        // Prefill vs token-by-token: same values up to rounding (not required bit-identical).
        {
            glm_context *c = make_ctx(m, 2, kv_type);
            std::vector<Seq> one{seqs[0]};
            std::vector<float> out, last;
            for (int p = 0; p < pre; p++) CHECK(run(c, one, {{0, p, 1}}, nv, out) == GLM_OK, "step");
            last = out;
            double maxd = 0;
            for (int i = 0; i < nv; i++) maxd = std::max(maxd, (double)std::fabs(last[i] - ref[i]));
            CHECK(maxd < 1e-3, "%s kv%d: prefill vs one-by-one differ by %g", label, kv_type, maxd);
            glm_context_free(c);
        }
    }
    std::printf("batch invariance ok: %s\n", label);
    glm_model_free(m);
    std::remove(path.c_str());
}

// Experts from disk (experts left in the file mapping, not repacked): the same logits as the
// repacked experts up to rounding; refused for a dense model and after the first context.
void experts_from_disk(const testgguf::ModelSpec &moe, const testgguf::ModelSpec &dense) {
    std::string path = testgguf::write_temp(testgguf::make_model(moe).bytes(), "moe-disk");
    glm_model *packed = nullptr, *disk = nullptr;
    CHECK(glm_model_load(path.c_str(), nullptr, &packed) == GLM_OK, "load: %s", glm_last_error());
    CHECK(glm_model_load(path.c_str(), nullptr, &disk) == GLM_OK, "load: %s", glm_last_error());
    if (!packed || !disk) return;
    glm_model_hparams hp;
    glm_model_get_hparams(packed, &hp);
    CHECK(glm_model_expert_bytes(packed) > 0, "expert bytes of a MoE model: %lld",
          (long long)glm_model_expert_bytes(packed));
    CHECK(glm_model_set_experts_from_disk(disk, 1) == GLM_OK, "set: %s", glm_last_error());
    std::vector<Seq> one(1);
    std::mt19937 rng(7);
    for (int i = 0; i < 20; i++) one[0].ids.push_back((int32_t)(rng() % hp.n_vocab));
    one[0].table = {0, 1};
    std::vector<float> a, b;
    glm_context *ca = make_ctx(packed, 2, GLM_KV_F32), *cb = make_ctx(disk, 2, GLM_KV_F32);
    CHECK(run(ca, one, {{0, 0, 20}}, hp.n_vocab, a) == GLM_OK, "packed: %s", glm_last_error());
    CHECK(run(cb, one, {{0, 0, 20}}, hp.n_vocab, b) == GLM_OK, "from disk: %s", glm_last_error());
    double maxd = 0;
    for (size_t i = 0; i < a.size(); i++) maxd = std::max(maxd, (double)std::fabs(a[i] - b[i]));
    CHECK(!a.empty() && maxd < 1e-3, "experts from disk vs repacked: logits differ by %g", maxd);
    CHECK(glm_model_set_experts_from_disk(packed, 1) == GLM_ERR_INVALID_ARGUMENT &&
              std::string(glm_last_error()).find("before the model's first context") != std::string::npos,
          "set after the first context: '%s'", glm_last_error());
    glm_context_free(ca);
    glm_context_free(cb);
    glm_model_free(packed);
    glm_model_free(disk);
    std::remove(path.c_str());
    std::string dpath = testgguf::write_temp(testgguf::make_model(dense).bytes(), "dense-disk");
    glm_model *d = nullptr;
    CHECK(glm_model_load(dpath.c_str(), nullptr, &d) == GLM_OK, "load dense: %s", glm_last_error());
    if (d) {
        CHECK(glm_model_expert_bytes(d) == 0, "expert bytes of a dense model");
        CHECK(glm_model_set_experts_from_disk(d, 1) == GLM_ERR_UNSUPPORTED &&
                  std::string(glm_last_error()).find("no routed experts") != std::string::npos,
              "dense: '%s'", glm_last_error());
        glm_model_free(d);
    }
    std::remove(dpath.c_str());
    std::printf("experts from disk ok (max |d| %.3g)\n", maxd);
}

// Malformed glm4moe files: each a clear load error naming the problem, never a crash.
void moe_fuzz() {
    struct Case {
        const char *fault, *expect;
    } cases[] = {
        {"expert_count", "ffn_gate_inp.weight' has shape"}, {"no_shared", "ffn_gate_shexp.weight' is missing"},
        {"bias_shape", "exp_probs_b.bias' has shape"},      {"exps_shape", "ffn_gate_exps.weight' has shape"},
        {"router_q8", "ffn_gate_inp.weight' must be F32"},
    };
    for (const Case &c : cases) {
        testgguf::ModelSpec s;
        s.arch = "glm4moe";
        s.n_layer = 3;
        s.fault = c.fault;
        std::string path = testgguf::write_temp(testgguf::make_model(s).bytes(), std::string("moe-") + c.fault);
        glm_model *m = nullptr;
        const int32_t st = glm_model_load(path.c_str(), nullptr, &m);
        const std::string err = st == GLM_OK ? "" : glm_last_error();
        CHECK(st == GLM_ERR_FORMAT || st == GLM_ERR_UNSUPPORTED, "moe fault %s: status %d", c.fault, st);
        CHECK(err.find(c.expect) != std::string::npos, "moe fault %s: message '%s' lacks '%s'", c.fault, err.c_str(),
              c.expect);
        if (m) glm_model_free(m);
        std::remove(path.c_str());
    }
    std::printf("moe fuzzed files ok\n");
}

// A split model (llama.cpp's gguf-split layout, written by testgguf::split_parts) loads from its
// first part and gives logits bit-identical to the unsplit file; a missing, foreign or
// misnamed part is a clear error naming it.
std::vector<std::string> write_parts(const std::vector<std::vector<uint8_t>> &parts, const std::string &tag, int n) {
    std::vector<std::string> paths;
    for (size_t k = 0; k < parts.size(); k++) {
        char sfx[40];
        std::snprintf(sfx, sizeof sfx, "-%05zu-of-%05d", k + 1, n);
        paths.push_back(testgguf::write_temp(parts[k], tag + sfx));
    }
    return paths;
}

void split_model() {
    testgguf::ModelSpec s;
    s.arch = "glm4moe";
    s.n_layer = 3;
    s.wtype = glm::T_Q4_0;
    const testgguf::Writer w = testgguf::make_model(s);
    const std::string whole = testgguf::write_temp(w.bytes(), "split-whole");
    std::vector<float> ref;
    glm_model_hparams hp{};
    auto logits = [&](const std::string &path, int threads, std::vector<float> &out) {
        glm_model *m = nullptr;
        out.clear();
        if (glm_model_load(path.c_str(), nullptr, &m) != GLM_OK) return std::string(glm_last_error());
        glm_model_get_hparams(m, &hp);
        std::vector<Seq> one(1);
        for (int i = 0; i < 20; i++) one[0].ids.push_back((i * 37 + 5) % hp.n_vocab);
        one[0].table = {0, 1};
        glm_context *c = make_ctx(m, threads, GLM_KV_F32);
        std::string err;
        if (!c || run(c, one, {{0, 0, 12}, {0, 12, 8}}, hp.n_vocab, out) != GLM_OK) err = glm_last_error();
        glm_context_free(c);
        glm_model_free(m);
        return err;
    };
    CHECK(logits(whole, 2, ref).empty(), "unsplit model: %s", glm_last_error());
    const int64_t params = hp.n_params;
    for (int n : {2, 3}) {
        const std::string tag = "split" + std::to_string(n);
        std::vector<std::string> paths = write_parts(testgguf::split_parts(w, n), tag, n);
        for (int threads : {1, 2}) {
            std::vector<float> got;
            const std::string err = logits(paths[0], threads, got);
            CHECK(err.empty(), "%d-part model, %d threads: %s", n, threads, err.c_str());
            CHECK(got.size() == ref.size() && std::memcmp(got.data(), ref.data(), ref.size() * 4) == 0,
                  "%d-part model, %d threads: logits differ from the unsplit file", n, threads);
            CHECK(hp.n_params == params, "%d-part model: %lld parameters, unsplit %lld", n, (long long)hp.n_params,
                  (long long)params);
        }
        auto load_err = [](const std::string &path) {
            glm_model *m = nullptr;
            const int32_t st = glm_model_load(path.c_str(), nullptr, &m);
            if (m) glm_model_free(m);
            return st == GLM_OK ? std::string() : std::string(glm_last_error());
        };
        // a later part given instead of the first
        std::string err = load_err(paths[1]);
        CHECK(err.find("is part 2 of " + std::to_string(n)) != std::string::npos &&
                  err.find(paths[0]) != std::string::npos,
              "part 2 loaded directly: '%s'", err.c_str());
        // the last part missing
        std::rename(paths.back().c_str(), (paths.back() + ".away").c_str());
        err = load_err(paths[0]);
        CHECK(err.find("part " + std::to_string(n) + " of " + std::to_string(n)) != std::string::npos &&
                  err.find("cannot open") != std::string::npos && err.find(paths.back()) != std::string::npos,
              "missing part: '%s'", err.c_str());
        std::rename((paths.back() + ".away").c_str(), paths.back().c_str());
        // the last part taken from another split of the same model
        const std::vector<std::vector<uint8_t>> other = testgguf::split_parts(w, n, n + 1);
        FILE *f = std::fopen(paths.back().c_str(), "wb");
        if (f) {
            std::fwrite(other.back().data(), 1, other.back().size(), f);
            std::fclose(f);
        }
        err = load_err(paths[0]);
        CHECK(err.find("says it is part " + std::to_string(n) + " of " + std::to_string(n + 1)) != std::string::npos,
              "foreign part: '%s'", err.c_str());
        for (const std::string &p : paths) std::remove(p.c_str());
    }
    // a first part renamed: its siblings cannot be found
    std::vector<std::vector<uint8_t>> two = testgguf::split_parts(w, 2);
    const std::string renamed = testgguf::write_temp(two[0], "split-renamed");
    std::vector<float> none;
    const std::string err = logits(renamed, 1, none);
    CHECK(err.find("not named PREFIX-00001-of-00002.gguf") != std::string::npos, "renamed first part: '%s'",
          err.c_str());
    std::remove(renamed.c_str());
    // a part with the tensor count of another split
    std::vector<std::string> paths = write_parts(two, "split-count", 2);
    {
        testgguf::Writer bad = w;
        bad.tensors.pop_back();
        std::vector<std::vector<uint8_t>> p2 = testgguf::split_parts(bad, 2);
        FILE *f = std::fopen(paths[1].c_str(), "wb");
        if (f) {
            std::fwrite(p2[1].data(), 1, p2[1].size(), f);
            std::fclose(f);
        }
    }
    const std::string cerr_ = logits(paths[0], 1, none);
    CHECK(cerr_.find("split.tensors.count says") != std::string::npos, "tensor count: '%s'", cerr_.c_str());
    for (const std::string &p : paths) std::remove(p.c_str());
    std::remove(whole.c_str());
    std::printf("split model ok\n");
}

void validation() {
    testgguf::ModelSpec spec;
    std::string path = testgguf::write_temp(testgguf::make_model(spec).bytes(), "val");
    glm_model *m = nullptr;
    CHECK(glm_model_load(path.c_str(), nullptr, &m) == GLM_OK, "load");
    glm_context *c = make_ctx(m, 2, GLM_KV_F32, 4);
    const int nv = spec.n_vocab;
    std::vector<Seq> seqs(1);
    for (int i = 0; i < 40; i++) seqs[0].ids.push_back(i % nv);
    seqs[0].table = {2, 0, 1};
    std::vector<float> out, ref, again;
    CHECK(run(c, seqs, {{0, 0, 20}}, nv, ref) == GLM_OK, "valid batch: %s", glm_last_error());
    // Bad batches: each must fail with INVALID_ARGUMENT and leave the KV pool untouched.
    int32_t tok[2] = {1, 2}, seq[2] = {0, 0}, pos[2] = {20, 21}, slot[2] = {4, 5}, offs[2] = {0, 3},
            table[3] = {2, 0, 1}, lrow[1] = {1};
    auto try_batch = [&](glm_batch b, const char *what, const char *sub) {
        std::vector<float> lg(nv * 2);
        int32_t st = glm_forward(c, &b, lg.data());
        CHECK(st == GLM_ERR_INVALID_ARGUMENT && std::string(glm_last_error()).find(sub) != std::string::npos,
              "%s: status %d '%s'", what, st, glm_last_error());
    };
    glm_batch good{2, tok, seq, pos, slot, 1, offs, table, 1, lrow};
    {
        glm_batch b = good;
        int32_t t2[2] = {1, nv};
        b.token_ids = t2;
        try_batch(b, "token id", "token_ids[1]");
    }
    {
        glm_batch b = good;
        int32_t s2[2] = {0, 1};
        b.seq_idx = s2;
        try_batch(b, "seq idx", "seq_idx[1]");
    }
    {
        glm_batch b = good;
        int32_t p2[2] = {20, 48};
        b.positions = p2;
        try_batch(b, "position past table", "past the block table");
    }
    {
        glm_batch b = good;
        int32_t sl[2] = {4, 64};
        b.slot_mapping = sl;
        try_batch(b, "slot outside pool", "outside the pool");
    }
    {
        glm_batch b = good;
        int32_t sl[2] = {4, 4};
        b.slot_mapping = sl;
        try_batch(b, "slot disagrees", "disagrees");
    }
    {
        glm_batch b = good;
        int32_t tb[3] = {2, 0, 9};
        b.block_tables = tb;
        try_batch(b, "block outside pool", "block_tables[2]");
    }
    {
        glm_batch b = good;
        int32_t lr[1] = {2};
        b.logit_rows = lr;
        try_batch(b, "logit row", "logit_rows[0]");
    }
    {
        glm_batch b = good;
        b.n_tokens = 0;
        try_batch(b, "empty", "n_tokens");
    }
    {
        glm_batch b = good;
        b.token_ids = nullptr;
        try_batch(b, "null", "null");
    }
    CHECK(glm_forward(c, nullptr, nullptr) == GLM_ERR_INVALID_ARGUMENT, "null batch");
    // The KV pool is untouched: decoding position 20 after a fresh prefill matches.
    std::vector<float> a, b2;
    CHECK(run(c, seqs, {{0, 20, 1}}, nv, a) == GLM_OK, "decode after rejected batches");
    glm_context *c2 = make_ctx(m, 2, GLM_KV_F32, 4);
    CHECK(run(c2, seqs, {{0, 0, 20}}, nv, out) == GLM_OK && run(c2, seqs, {{0, 20, 1}}, nv, b2) == GLM_OK, "fresh");
    CHECK(a == b2, "rejected batches changed the KV pool");
    // Context parameters.
    glm_context_params p;
    CHECK(glm_context_get_params(c, &p) == GLM_OK && p.n_kv_blocks == 4 && p.kv_block_size == BS && p.n_threads == 2,
          "params");
    CHECK(glm_kv_block_bytes(m, 16, GLM_KV_F16) == 2LL * spec.n_layer * 16 * spec.n_head_kv * spec.head_dim * 2,
          "block bytes");
    glm_context_params bad = glm_context_default_params();
    bad.device = "cuda:0";
    glm_context *c3 = nullptr;
    CHECK(glm_context_create(m, &bad, &c3) == GLM_ERR_UNSUPPORTED && c3 == nullptr,
          "cuda is unsupported in this build");
    glm_context_free(c2);
    glm_context_free(c);
    glm_model_free(m);
    std::remove(path.c_str());
}

} // namespace

// glm_context_triad keeps its arrays for the next call of the same size (glm-bench --paired puts one
// pass between decode steps): repeated and resized calls measure, and the context's forward pass
// gives the same logits after them as before.
void triad_between_forwards() {
    testgguf::ModelSpec spec;
    std::string path = testgguf::write_temp(testgguf::make_model(spec).bytes(), "triad");
    glm_model *m = nullptr;
    CHECK(glm_model_load(path.c_str(), nullptr, &m) == GLM_OK, "triad load: %s", glm_last_error());
    glm_context *c = make_ctx(m, 2, GLM_KV_F32);
    const int nv = spec.n_vocab;
    std::vector<Seq> one{{{1, 2, 3, 4, 5}, {0}}};
    std::vector<float> before, after;
    CHECK(run(c, one, {{0, 0, 5}}, nv, before) == GLM_OK, "triad forward: %s", glm_last_error());
    for (int64_t mib : {2, 2, 1, 2, 65, 2}) { // 65 MiB: freed again before the call returns
        double bw = 0;
        CHECK(glm_context_triad(c, mib << 20, 1, &bw) == GLM_OK && bw > 0, "triad %lld MiB: %s (%g)", (long long)mib,
              glm_last_error(), bw);
    }
    double bw = 0;
    CHECK(glm_context_triad(c, (1 << 20) - 8, 1, &bw) == GLM_ERR_INVALID_ARGUMENT, "triad under 1 MiB accepted");
    CHECK(glm_context_triad(c, 1 << 20, 0, &bw) == GLM_ERR_INVALID_ARGUMENT, "triad with 0 reps accepted");
    CHECK(run(c, one, {{0, 0, 5}}, nv, after) == GLM_OK, "triad forward again: %s", glm_last_error());
    CHECK(before.size() == after.size() && std::memcmp(before.data(), after.data(), before.size() * 4) == 0,
          "logits changed after triad passes");
    glm_context_free(c);
    glm_model_free(m);
}

int main() {
    std::printf("%s\n", glm_system_info());
    testgguf::ModelSpec s;
    batch_invariance("glm4-f32", s);
    triad_between_forwards();
    {
        testgguf::ModelSpec odd = s; // widths that are multiples of 8 but not of 32
        odd.n_ff = 40;
        odd.head_dim = 24;
        odd.n_rot = 8;
        batch_invariance("glm4-f32-odd-widths", odd);
    }
    s.wtype = glm::T_Q8_0;
    batch_invariance("glm4-q8_0", s);
    s.arch = "chatglm";
    s.fused_qkv = true;
    s.n_embd = 64;
    s.n_head = 4;
    s.head_dim = 16;
    s.wtype = glm::T_Q4_0;
    s.n_embd = 256;
    s.head_dim = 64;
    s.n_rot = 32;
    s.out_type = glm::T_Q6_K;
    batch_invariance("chatglm-q4_0-q6k-head", s);
    s.arch = "glm4";
    s.fused_qkv = false;
    s.wtype = glm::T_F16;
    s.tied = true;
    s.out_type = -1;
    batch_invariance("glm4-f16-tied", s);
    s.wtype = glm::T_BF16;
    batch_invariance("glm4-bf16-tied", s);
    {
        // glm4moe: one dense lead layer, 8 experts / 2 used + a shared expert, q/k norms, NEOX RoPE,
        // and a NextN layer counted in block_count that is never run
        testgguf::ModelSpec moe;
        moe.arch = "glm4moe";
        moe.n_layer = 3;
        batch_invariance("glm4moe-f32", moe);
        moe.wtype = glm::T_Q8_0;
        batch_invariance("glm4moe-q8_0", moe);
        moe.wtype = glm::T_Q4_0;
        moe.qk_norm = false;
        batch_invariance("glm4moe-q4_0", moe);
        batch_invariance("glm4moe-q4_0-experts-from-disk", moe, true);
        experts_from_disk(moe, testgguf::ModelSpec{});
        moe_fuzz();
        split_model();
    }
    validation();
    if (g_failures) {
        std::printf("%d check(s) failed\n", g_failures);
        return 1;
    }
    std::printf("all engine checks passed\n");
    return 0;
}
