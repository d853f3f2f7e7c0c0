// GGUF reader and model validation on crafted files: every malformed input gives the right status
// and a message, never a crash (this file also runs under AddressSanitizer as gguf_asan).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gguf.h"
#include "glm.h"

static int g_failures = 0;
#include "gguf_writer.h"

using namespace glm;
using testgguf::Writer;

// Parses a buffer; returns the status (GLM_OK or the thrown one) and the message.
static int32_t parse(const std::vector<uint8_t> &b, std::string *msg = nullptr) {
    GgufFile f;
    try {
        f.parse_buffer(b.data(), b.size());
        return GLM_OK;
    } catch (const Error &e) {
        if (msg) *msg = e.message;
        return e.status;
    }
}

static int32_t load(const std::vector<uint8_t> &b, std::string *msg = nullptr, const char *tag = "m") {
    std::string path = testgguf::write_temp(b, tag);
    glm_model *m = nullptr;
    int32_t st = glm_model_load(path.c_str(), nullptr, &m);
    if (msg) *msg = glm_last_error();
    if (st == GLM_OK) {
        if (m == nullptr) st = -1;
        glm_model_free(m);
    } else if (m != nullptr) {
        st = -2; // out-parameter must stay untouched on failure
    }
    std::remove(path.c_str());
    return st;
}

static bool contains(const std::string &s, const char *sub) { return s.find(sub) != std::string::npos; }

static void expect_parse(const std::vector<uint8_t> &b, int32_t status, const char *sub, const char *what) {
    std::string msg;
    int32_t st = parse(b, &msg);
    CHECK(st == status && contains(msg, sub), "%s: status %d (want %d), message '%s' (want '%s')", what, st, status,
          msg.c_str(), sub);
}

static void expect_load(const std::vector<uint8_t> &b, int32_t status, const char *sub, const char *what) {
    std::string msg;
    int32_t st = load(b, &msg);
    CHECK(st == status && contains(msg, sub), "%s: status %d (want %d), message '%s' (want '%s')", what, st, status,
          msg.c_str(), sub);
}

template <class V>
static void poke(std::vector<uint8_t> &b, size_t at, V v) {
    std::memcpy(&b[at], &v, sizeof v);
}

int main() {
    testgguf::ModelSpec spec;
    spec.n_embd = 32;
    spec.n_head = 2;
    spec.n_head_kv = 1;
    spec.head_dim = 16;
    spec.n_rot = 8;
    spec.n_ff = 32;
    spec.n_vocab = 40;
    Writer w = testgguf::make_model(spec);
    std::vector<uint64_t> offs;
    const std::vector<uint8_t> good = w.bytes(&offs);
    CHECK(parse(good) == GLM_OK, "valid file parses");
    CHECK(load(good) == GLM_OK, "valid model loads: %s", glm_last_error());

    // Metadata of every type, including arrays, reads back through the C API.
    {
        Writer v = testgguf::make_model(spec);
        v.key("x.u8", 0);
        v.put<uint8_t>(v.kv, 200);
        v.key("x.i8", 1);
        v.put<int8_t>(v.kv, -5);
        v.key("x.u16", 2);
        v.put<uint16_t>(v.kv, 60000);
        v.key("x.i16", 3);
        v.put<int16_t>(v.kv, -300);
        v.i32("x.i32", -70000);
        v.key("x.bool", 7);
        v.put<uint8_t>(v.kv, 1);
        v.key("x.u64", 10);
        v.put<uint64_t>(v.kv, ~0ull);
        v.key("x.i64", 11);
        v.put<int64_t>(v.kv, -(1ll << 40));
        v.key("x.f64", 12);
        v.put<double>(v.kv, 0.125);
        v.arr_i32("x.arr", {1, -2, 3});
        std::string path = testgguf::write_temp(v.bytes(), "meta");
        glm_model *m = nullptr;
        CHECK(glm_model_load(path.c_str(), nullptr, &m) == GLM_OK, "meta model loads: %s", glm_last_error());
        if (m) {
            int64_t i64;
            double f64;
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.u8"), &i64) == GLM_OK && i64 == 200, "u8");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.i8"), &i64) == GLM_OK && i64 == -5, "i8");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.u16"), &i64) == GLM_OK && i64 == 60000, "u16");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.i16"), &i64) == GLM_OK && i64 == -300, "i16");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.i32"), &i64) == GLM_OK && i64 == -70000, "i32");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.bool"), &i64) == GLM_OK && i64 == 1, "bool");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.u64"), &i64) == GLM_ERR_INVALID_ARGUMENT,
                  "u64 above INT64_MAX fails");
            CHECK(glm_meta_get_i64(m, glm_meta_find(m, "x.i64"), &i64) == GLM_OK && i64 == -(1ll << 40), "i64");
            CHECK(glm_meta_get_f64(m, glm_meta_find(m, "x.f64"), &f64) == GLM_OK && f64 == 0.125, "f64");
            CHECK(glm_meta_get_f64(m, glm_meta_find(m, "glm4.attention.layer_norm_rms_epsilon"), &f64) == GLM_OK &&
                      f64 == (double)1e-5f,
                  "f32");
            int32_t et;
            int64_t len;
            const void *data;
            int64_t ai = glm_meta_find(m, "x.arr");
            CHECK(glm_meta_arr_info(m, ai, &et, &len) == GLM_OK && et == GLM_META_INT32 && len == 3, "array info");
            CHECK(glm_meta_arr_data(m, ai, &data) == GLM_OK && static_cast<const int32_t *>(data)[1] == -2,
                  "array data");
            const char *s;
            int64_t sl;
            int64_t ti = glm_meta_find(m, "tokenizer.ggml.tokens");
            CHECK(glm_meta_arr_str(m, ti, 7, &s, &sl) == GLM_OK && std::string(s, sl) == "t7", "string array element");
            CHECK(glm_meta_arr_str(m, ti, 40, &s, &sl) == GLM_ERR_INVALID_ARGUMENT, "string array index past the end");
            CHECK(glm_meta_get_str(m, glm_meta_find(m, "general.architecture"), &s, &sl) == GLM_OK &&
                      std::string(s, sl) == "glm4",
                  "string");
            CHECK(glm_meta_get_str(m, glm_meta_find(m, "x.u8"), &s, &sl) == GLM_ERR_INVALID_ARGUMENT,
                  "type mismatch fails");
            CHECK(glm_meta_find(m, "no.such.key") == -1, "missing key");
            CHECK(glm_meta_type(m, 1 << 30) == -1, "bad index type");
            const char *name;
            int32_t type, nd;
            int64_t ne[4];
            CHECK(glm_tensor_info(m, 0, &name, &type, &nd, ne) == GLM_OK && std::string(name) == "token_embd.weight" &&
                      ne[1] == 40,
                  "tensor info");
            glm_model_hparams hp;
            CHECK(glm_model_get_hparams(m, &hp) == GLM_OK && hp.n_vocab == 40 && hp.n_embd == 32 && hp.n_head_kv == 1 &&
                      hp.n_rot == 8 && hp.file_type == -1,
                  "hparams");
            glm_model_free(m);
        }
        std::remove(path.c_str());
    }

    // Header-level corruption.
    {
        auto b = good;
        b[0] = 'X';
        expect_parse(b, GLM_ERR_FORMAT, "bad magic", "bad magic");
    }
    {
        auto b = good;
        poke<uint32_t>(b, 4, 2);
        expect_parse(b, GLM_ERR_FORMAT, "version 2", "version 2");
    }
    {
        auto b = good;
        poke<uint64_t>(b, 8, 1ull << 60);
        expect_parse(b, GLM_ERR_FORMAT, "absurd tensor count", "tensor count");
    }
    {
        auto b = good;
        poke<uint64_t>(b, 16, 1ull << 62);
        expect_parse(b, GLM_ERR_FORMAT, "absurd metadata count", "kv count");
    }
    {
        auto b = good;
        poke<uint64_t>(b, 24, 1ull << 62);
        expect_parse(b, GLM_ERR_FORMAT, "absurd string length", "key length");
    }
    {
        auto b = good;
        poke<uint64_t>(b, 24, 1ull << 20);
        expect_parse(b, GLM_ERR_FORMAT, "truncated", "key length past end");
    }
    // Truncation at every byte of the header and metadata, and at some points in the data.
    {
        int bad = 0;
        const size_t header_end = good.size() - 4096 > 0 ? std::min<size_t>(good.size(), 6000) : good.size();
        for (size_t n = 0; n < header_end; n++) {
            std::vector<uint8_t> b(good.begin(), good.begin() + (long)n);
            if (parse(b) != GLM_ERR_FORMAT) bad++;
        }
        for (size_t n = header_end; n < good.size(); n += 997) {
            std::vector<uint8_t> b(good.begin(), good.begin() + (long)n);
            if (parse(b) != GLM_ERR_FORMAT) bad++;
        }
        CHECK(bad == 0, "%d truncations were not rejected as FORMAT", bad);
        std::string msg;
        std::vector<uint8_t> b(good.begin(), good.end() - 100);
        expect_parse(b, GLM_ERR_FORMAT, "runs past the end", "truncated data section");
        expect_load(b, GLM_ERR_FORMAT, "runs past the end", "truncated file through the API");
    }
    // Tensor-level edits through the writer.
    auto with = [&](auto edit) {
        Writer x = testgguf::make_model(spec);
        edit(x);
        return x.bytes();
    };
    {
        // Offsets past the end / overlapping / misaligned: patch the tensor-info offsets in place.
        Writer x = testgguf::make_model(spec);
        std::vector<uint64_t> o;
        auto b = x.bytes(&o);
        // Locate the offset field of tensor 1: search the serialised name then skip dims/type.
        auto find_info = [&](const std::vector<uint8_t> &buf, const std::string &name) -> size_t {
            for (size_t i = 0; i + name.size() < buf.size(); i++) {
                uint64_t len;
                std::memcpy(&len, &buf[i], 8);
                if (len == name.size() && std::memcmp(&buf[i + 8], name.data(), name.size()) == 0) {
                    size_t p = i + 8 + name.size();
                    uint32_t nd;
                    std::memcpy(&nd, &buf[p], 4);
                    return p + 4 + 8 * nd + 4; // offset field
                }
            }
            return 0;
        };
        size_t at = find_info(b, "output_norm.weight");
        CHECK(at != 0, "found tensor info");
        {
            auto c = b;
            poke<uint64_t>(c, at, 1ull << 40);
            expect_parse(c, GLM_ERR_FORMAT, "runs past the end", "offset past end");
        }
        {
            auto c = b;
            poke<uint64_t>(c, at, 0);
            expect_parse(c, GLM_ERR_FORMAT, "overlap", "overlapping tensors");
        }
        {
            auto c = b;
            poke<uint64_t>(c, at, o[1] + 4);
            expect_parse(c, GLM_ERR_FORMAT, "not a multiple of the alignment", "misaligned offset");
        }
        {
            auto c = b;
            poke<uint64_t>(c, at, ~0ull - 3);
            expect_parse(c, GLM_ERR_FORMAT, "", "offset overflow");
        }
        // Dimension edits: absurd, zero, and a count of 5 dimensions.
        size_t te = find_info(b, "token_embd.weight");
        {
            auto c = b;
            poke<uint64_t>(c, te - 4 - 16, 1ull << 45);
            expect_parse(c, GLM_ERR_FORMAT, "absurd size", "absurd dim");
        }
        {
            auto c = b;
            poke<uint64_t>(c, te - 4 - 16, 0);
            expect_parse(c, GLM_ERR_FORMAT, "absurd size", "zero dim");
        }
        {
            auto c = b;
            poke<uint32_t>(c, te - 4 - 16 - 4, 5);
            expect_parse(c, GLM_ERR_FORMAT, "dimensions", "5 dims");
        }
        {
            auto c = b;
            poke<uint32_t>(c, te - 4, 77);
            expect_parse(c, GLM_ERR_FORMAT, "unknown ggml type 77", "unknown type");
        }
    }
    expect_parse(with([](Writer &x) {
                     x.kv.clear();
                     x.n_kv = 0;
                     x.u32("general.alignment", 48);
                     x.str("general.architecture", "glm4");
                 }),
                 GLM_ERR_FORMAT, "power of two", "alignment 48");
    expect_parse(with([](Writer &x) { x.str("general.architecture", "glm4"); }), GLM_ERR_FORMAT,
                 "duplicate metadata key", "duplicate key");
    expect_parse(with([](Writer &x) {
                     x.key("bad.type", 13);
                     x.put<uint32_t>(x.kv, 0);
                 }),
                 GLM_ERR_FORMAT, "unknown value type", "bad value type");
    expect_parse(with([](Writer &x) {
                     x.key("bad.arr", 9);
                     x.put<uint32_t>(x.kv, 4);
                     x.put<uint64_t>(x.kv, 1ull << 61);
                 }),
                 GLM_ERR_FORMAT, "runs past the end", "absurd array");
    expect_parse(with([](Writer &x) {
                     x.key("bad.sarr", 9);
                     x.put<uint32_t>(x.kv, 8);
                     x.put<uint64_t>(x.kv, 1ull << 61);
                 }),
                 GLM_ERR_FORMAT, "absurd string array length", "absurd string array");
    expect_parse(with([](Writer &x) { x.tensor("token_embd.weight", {32}, 0, std::vector<uint8_t>(128)); }),
                 GLM_ERR_FORMAT, "duplicate tensor name", "duplicate tensor");
    expect_parse(with([](Writer &x) { x.tensor("odd", {33}, T_Q8_0, std::vector<uint8_t>(64)); }), GLM_ERR_FORMAT,
                 "not a multiple", "partial block");

    // Model-level validation.
    {
        testgguf::ModelSpec s = spec;
        s.arch = "llama";
        expect_load(testgguf::make_model(s).bytes(), GLM_ERR_UNSUPPORTED, "architecture 'llama' is not supported",
                    "unknown arch");
    }
    expect_load(with([](Writer &x) {
                    for (auto &t : x.tensors)
                        if (t.name == "blk.1.ffn_down.weight") {
                            t.type = T_Q2_K;
                            t.data.assign((size_t)(t.ne[0] * t.ne[1] / 256 * 84), 0);
                        }
                }),
                GLM_ERR_FORMAT, "not a multiple", "Q4_K with a row of 32 is malformed");
    {
        testgguf::ModelSpec s = spec;
        s.n_embd = 256;
        s.n_ff = 256;
        s.head_dim = 128;
        s.n_rot = 64;
        expect_load(with([&](Writer &x) {
                        x = testgguf::make_model(s);
                        for (auto &t : x.tensors)
                            if (t.name == "blk.1.ffn_down.weight") {
                                t.type = T_Q2_K;
                                t.data.assign((size_t)(t.ne[0] * t.ne[1] / 256 * 84), 0);
                            }
                    }),
                    GLM_ERR_UNSUPPORTED, "'blk.1.ffn_down.weight' has type Q2_K", "unsupported type");
    }
    expect_load(with([](Writer &x) {
                    for (auto &t : x.tensors)
                        if (t.name == "blk.0.ffn_up.weight") {
                            t.ne[1] = 48;
                            t.data.resize(32 * 48 * 4);
                        }
                }),
                GLM_ERR_FORMAT, "'blk.0.ffn_up.weight' has shape [32, 48], the hyper-parameters imply [32, 64]",
                "shape mismatch");
    expect_load(with([](Writer &x) {
                    for (size_t i = 0; i < x.tensors.size(); i++)
                        if (x.tensors[i].name == "blk.1.post_ffw_norm.weight")
                            x.tensors.erase(x.tensors.begin() + (long)i);
                }),
                GLM_ERR_FORMAT, "required tensor 'blk.1.post_ffw_norm.weight' is missing", "missing glm4 post-norm");
    expect_load(with([](Writer &x) {
                    for (size_t i = 0; i < x.tensors.size(); i++)
                        if (x.tensors[i].name == "blk.0.attn_q.weight") x.tensors.erase(x.tensors.begin() + (long)i);
                }),
                GLM_ERR_FORMAT, "neither", "no q weights");
    {
        Writer x;
        x.str("general.architecture", "glm4");
        expect_load(x.bytes(), GLM_ERR_FORMAT, "required metadata 'glm4.context_length' is missing", "missing hparams");
    }
    {
        std::string msg;
        glm_model *m = nullptr;
        CHECK(glm_model_load("/nonexistent/x.gguf", nullptr, &m) == GLM_ERR_IO && m == nullptr, "missing file is IO");
        CHECK(glm_model_load(nullptr, nullptr, &m) == GLM_ERR_INVALID_ARGUMENT, "null path");
    }

    // use_mmap = 0 reads the file; validate_data = 1 finds a NaN in the weights.
    {
        std::string path = testgguf::write_temp(good, "nommap");
        glm_model_params mp = glm_model_default_params();
        mp.use_mmap = 0;
        mp.validate_data = 1;
        glm_model *m = nullptr;
        CHECK(glm_model_load(path.c_str(), &mp, &m) == GLM_OK, "load without mmap: %s", glm_last_error());
        glm_model_free(m);
        m = nullptr;
        auto b = with([](Writer &x) {
            for (auto &t : x.tensors)
                if (t.name == "blk.0.ffn_norm.weight") {
                    float nan = NAN;
                    std::memcpy(&t.data[8], &nan, 4);
                }
        });
        std::string p2 = testgguf::write_temp(b, "nan");
        CHECK(glm_model_load(p2.c_str(), &mp, &m) == GLM_ERR_FORMAT &&
                  std::string(glm_last_error()).find("NaN") != std::string::npos,
              "validate_data finds NaN: %s", glm_last_error());
        mp.validate_data = 0;
        CHECK(glm_model_load(p2.c_str(), &mp, &m) == GLM_OK, "without validation the NaN file loads");
        glm_model_free(m);
        std::remove(path.c_str());
        std::remove(p2.c_str());
    }

    // Random mutations: bytes, truncations and field edits. Every load ends with a status, never a crash.
    {
        std::mt19937 rng(12345);
        int ok = 0, rejected = 0;
        for (int it = 0; it < 3000; it++) {
            std::vector<uint8_t> b = good;
            const int kind = it % 3;
            if (kind == 0) {
                const int n = 1 + (int)(rng() % 8);
                for (int k = 0; k < n; k++) b[rng() % std::min<size_t>(b.size(), 4096)] = (uint8_t)rng();
            } else if (kind == 1) {
                b.resize(rng() % b.size());
            } else {
                const size_t at = (rng() % (std::min<size_t>(b.size(), 4096) - 8));
                const uint64_t vals[] = {0, 1, 0xffffffffull, ~0ull, 1ull << 33, (uint64_t)rng()};
                poke<uint64_t>(b, at, vals[rng() % 6]);
            }
            int32_t st = (it % 10 == 0) ? load(b, nullptr, "fuzz") : parse(b);
            if (st == GLM_OK)
                ok++;
            else if (st >= 1 && st <= 7)
                rejected++;
            else
                CHECK(false, "mutation %d gave status %d", it, st);
        }
        std::printf("fuzz: %d accepted, %d rejected with a status\n", ok, rejected);
    }

    if (g_failures) {
        std::printf("%d check(s) failed\n", g_failures);
        return 1;
    }
    std::printf("all gguf checks passed\n");
    return 0;
}
