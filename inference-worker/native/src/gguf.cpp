#include "gguf.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace glm {

namespace {

constexpr uint64_t kMaxStringLen = 1ull << 30; // 1 GiB: no sane key or value is longer
constexpr uint64_t kMaxTensorName = 64;        // GGML_MAX_NAME
constexpr int kMaxDepth = 2;                   // arrays of arrays are not used by GLM files

const char *meta_type_name(int32_t t) {
    static const char *names[] = {"uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
                                  "bool",  "string", "array",  "uint64", "int64",  "float64"};
    return (t >= 0 && t <= 12) ? names[t] : "unknown";
}

int64_t scalar_size(int32_t t) {
    switch (t) {
        case GLM_META_UINT8:
        case GLM_META_INT8:
        case GLM_META_BOOL:
            return 1;
        case GLM_META_UINT16:
        case GLM_META_INT16:
            return 2;
        case GLM_META_UINT32:
        case GLM_META_INT32:
        case GLM_META_FLOAT32:
            return 4;
        case GLM_META_UINT64:
        case GLM_META_INT64:
        case GLM_META_FLOAT64:
            return 8;
        default:
            return -1;
    }
}

struct Cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos = 0;

    void need(uint64_t n, const char *what) {
        if (n > size - pos) {
            fail(GLM_ERR_FORMAT, "truncated GGUF file: %s at byte %llu needs %llu bytes, only %llu left", what,
                 (unsigned long long)pos, (unsigned long long)n, (unsigned long long)(size - pos));
        }
    }
    template <class T>
    T rd(const char *what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, base + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    std::string_view str(const char *what) {
        uint64_t len = rd<uint64_t>(what);
        if (len > kMaxStringLen) {
            fail(GLM_ERR_FORMAT, "absurd string length %llu for %s at byte %llu", (unsigned long long)len, what,
                 (unsigned long long)(pos - 8));
        }
        need(len, what);
        std::string_view s(reinterpret_cast<const char *>(base + pos), (size_t)len);
        pos += len;
        return s;
    }
};

} // namespace

GgufFile::~GgufFile() {
    if (map_) munmap(map_, map_size_);
}

void GgufFile::open(const char *path, bool use_mmap) {
    open_one(path, use_mmap);
    open_split_parts(path, use_mmap);
}

namespace {

// split.* keys as llama.cpp's gguf-split writes them (u16 count/no, i32 tensor count); any
// integer type is accepted.
int64_t split_key(const GgufFile &f, const char *key, int64_t def) {
    const MetaEntry *e = f.find_meta(key);
    if (!e) return def;
    int64_t v;
    if (!meta_int(*e, &v)) fail(GLM_ERR_FORMAT, "metadata '%s' must be an integer", key);
    return v;
}

std::string part_suffix(int64_t no, int64_t count) {
    char b[48];
    std::snprintf(b, sizeof b, "-%05lld-of-%05lld.gguf", (long long)no, (long long)count);
    return b;
}

} // namespace

void GgufFile::open_split_parts(const std::string &path, bool use_mmap) {
    const int64_t count = split_key(*this, "split.count", 1);
    if (count == 1) return;
    if (count < 1 || count > 9999) fail(GLM_ERR_FORMAT, "split.count %lld is out of range 1..9999", (long long)count);
    const int64_t no = split_key(*this, "split.no", 0);
    const std::string first = part_suffix(1, count);
    if (no != 0) {
        const std::string own = part_suffix(no + 1, count);
        std::string hint = path.size() > own.size() && path.compare(path.size() - own.size(), own.size(), own) == 0
                               ? path.substr(0, path.size() - own.size()) + first
                               : "the part named *" + first;
        fail(GLM_ERR_FORMAT, "'%s' is part %lld of %lld of a split model: load its first part, %s", path.c_str(),
             (long long)no + 1, (long long)count, hint.c_str());
    }
    if (path.size() <= first.size() || path.compare(path.size() - first.size(), first.size(), first) != 0) {
        fail(GLM_ERR_FORMAT,
             "'%s' is the first of %lld parts of a split model but is not named PREFIX%s, so its other parts "
             "cannot be found (keep gguf-split's file names)",
             path.c_str(), (long long)count, first.c_str());
    }
    const std::string prefix = path.substr(0, path.size() - first.size());
    for (int64_t i = 1; i < count; i++) {
        const std::string pp = prefix + part_suffix(i + 1, count);
        auto part = std::make_unique<GgufFile>();
        try {
            part->open_one(pp.c_str(), use_mmap);
        } catch (const Error &e) {
            fail(e.status, "split model '%s': part %lld of %lld: %s", path.c_str(), (long long)i + 1, (long long)count,
                 e.message.c_str());
        }
        const int64_t pc = split_key(*part, "split.count", 1), pn = split_key(*part, "split.no", 0);
        if (pc != count || pn != i) {
            fail(GLM_ERR_FORMAT,
                 "split model '%s': '%s' says it is part %lld of %lld, expected part %lld of %lld (a part of "
                 "another split?)",
                 path.c_str(), pp.c_str(), (long long)pn + 1, (long long)pc, (long long)i + 1, (long long)count);
        }
        for (const TensorInfo &t : part->tensors) {
            if (!tensor_index.emplace(t.name, tensors.size()).second) {
                fail(GLM_ERR_FORMAT, "split model '%s': tensor '%s' appears in two parts (again in '%s')", path.c_str(),
                     t.name_z.c_str(), pp.c_str());
            }
            tensors.push_back(t);
        }
        parts_.push_back(std::move(part));
    }
    const int64_t want = split_key(*this, "split.tensors.count", -1);
    if (want >= 0 && want != (int64_t)tensors.size()) {
        fail(GLM_ERR_FORMAT, "split model '%s': split.tensors.count says %lld tensors, its %lld parts hold %zu",
             path.c_str(), (long long)want, (long long)count, tensors.size());
    }
}

void GgufFile::open_one(const char *path, bool use_mmap) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(GLM_ERR_IO, "cannot open model file '%s': %s", path, std::strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        fail(GLM_ERR_IO, "cannot stat '%s': %s", path, std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(GLM_ERR_IO, "'%s' is not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 24) {
        ::close(fd);
        fail(GLM_ERR_FORMAT, "'%s' is too small to be a GGUF file (%llu bytes)", path, (unsigned long long)size);
    }
    if (use_mmap) {
        void *m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        int e = errno;
        ::close(fd);
        if (m == MAP_FAILED) fail(GLM_ERR_IO, "cannot map '%s': %s", path, std::strerror(e));
        map_ = m;
        map_size_ = size;
        base_ = static_cast<const uint8_t *>(m);
    } else {
        try {
            owned_.resize(size);
        } catch (...) {
            ::close(fd);
            fail(GLM_ERR_OUT_OF_MEMORY, "cannot allocate %llu bytes to read '%s'", (unsigned long long)size, path);
        }
        uint64_t got = 0;
        while (got < size) {
            ssize_t n = ::pread(fd, owned_.data() + got, size - got, (off_t)got);
            if (n <= 0) {
                int e = errno;
                ::close(fd);
                fail(GLM_ERR_IO, "cannot read '%s': %s", path, n == 0 ? "unexpected end of file" : std::strerror(e));
            }
            got += (uint64_t)n;
        }
        ::close(fd);
        base_ = owned_.data();
    }
    size_ = size;
    parse();
}

void GgufFile::parse_buffer(const uint8_t *data, uint64_t size) {
    base_ = data;
    size_ = size;
    parse();
}

const MetaEntry *GgufFile::find_meta(std::string_view key) const {
    auto it = meta_index.find(key);
    return it == meta_index.end() ? nullptr : &meta[it->second];
}

const TensorInfo *GgufFile::find_tensor(std::string_view name) const {
    auto it = tensor_index.find(name);
    return it == tensor_index.end() ? nullptr : &tensors[it->second];
}

void GgufFile::parse() {
    Cursor c{base_, size_};
    c.need(4, "magic");
    if (std::memcmp(base_, "GGUF", 4) != 0) {
        fail(GLM_ERR_FORMAT, "not a GGUF file: bad magic %02x %02x %02x %02x (expected 'GGUF')",
             size_ > 0 ? base_[0] : 0, size_ > 1 ? base_[1] : 0, size_ > 2 ? base_[2] : 0, size_ > 3 ? base_[3] : 0);
    }
    c.pos = 4;
    version = c.rd<uint32_t>("version");
    if (version != 3) fail(GLM_ERR_FORMAT, "unsupported GGUF version %u (only version 3 is read)", version);
    uint64_t n_tensors = c.rd<uint64_t>("tensor count");
    uint64_t n_kv = c.rd<uint64_t>("metadata count");
    // Every tensor info needs >= 8 (name len) + 4 (n_dims) + 8 (ne) + 4 (type) + 8 (offset) bytes,
    // every key/value >= 8 + 4 + 1; reject counts the file cannot possibly hold before allocating.
    if (n_tensors > (size_ - c.pos) / 32) {
        fail(GLM_ERR_FORMAT, "absurd tensor count %llu for a file of %llu bytes", (unsigned long long)n_tensors,
             (unsigned long long)size_);
    }
    if (n_kv > (size_ - c.pos) / 13) {
        fail(GLM_ERR_FORMAT, "absurd metadata count %llu for a file of %llu bytes", (unsigned long long)n_kv,
             (unsigned long long)size_);
    }
    meta.clear();
    meta.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; i++) {
        MetaEntry e;
        e.key = c.str("metadata key");
        if (e.key.empty()) fail(GLM_ERR_FORMAT, "metadata entry %llu has an empty key", (unsigned long long)i);
        e.type = (int32_t)c.rd<uint32_t>("metadata value type");
        const std::string k(e.key);
        switch (e.type) {
            case GLM_META_UINT8:
                e.raw = c.rd<uint8_t>("value");
                break;
            case GLM_META_INT8:
                e.raw = (uint64_t)(int64_t)c.rd<int8_t>("value");
                break;
            case GLM_META_UINT16:
                e.raw = c.rd<uint16_t>("value");
                break;
            case GLM_META_INT16:
                e.raw = (uint64_t)(int64_t)c.rd<int16_t>("value");
                break;
            case GLM_META_UINT32:
                e.raw = c.rd<uint32_t>("value");
                break;
            case GLM_META_INT32:
                e.raw = (uint64_t)(int64_t)c.rd<int32_t>("value");
                break;
            case GLM_META_FLOAT32:
                e.raw = c.rd<uint32_t>("value");
                break;
            case GLM_META_BOOL: {
                uint8_t b = c.rd<uint8_t>("value");
                if (b > 1) fail(GLM_ERR_FORMAT, "metadata '%s': bool value %u is neither 0 nor 1", k.c_str(), b);
                e.raw = b;
                break;
            }
            case GLM_META_STRING:
                e.str = c.str("string value");
                break;
            case GLM_META_UINT64:
            case GLM_META_INT64:
            case GLM_META_FLOAT64:
                e.raw = c.rd<uint64_t>("value");
                break;
            case GLM_META_ARRAY: {
                e.arr_type = (int32_t)c.rd<uint32_t>("array element type");
                e.arr_len = c.rd<uint64_t>("array length");
                if (e.arr_type == GLM_META_STRING) {
                    if (e.arr_len > (size_ - c.pos) / 8) {
                        fail(GLM_ERR_FORMAT, "metadata '%s': absurd string array length %llu", k.c_str(),
                             (unsigned long long)e.arr_len);
                    }
                    e.arr_strings.reserve(e.arr_len);
                    for (uint64_t j = 0; j < e.arr_len; j++) e.arr_strings.push_back(c.str("array string"));
                } else if (e.arr_type == GLM_META_ARRAY) {
                    (void)kMaxDepth;
                    fail(GLM_ERR_FORMAT, "metadata '%s': nested arrays are not supported", k.c_str());
                } else {
                    int64_t es = scalar_size(e.arr_type);
                    if (es < 0) {
                        fail(GLM_ERR_FORMAT, "metadata '%s': unknown array element type %d", k.c_str(), e.arr_type);
                    }
                    if (e.arr_len > (size_ - c.pos) / (uint64_t)es) {
                        fail(GLM_ERR_FORMAT, "metadata '%s': array of %llu %s elements runs past the end of the file",
                             k.c_str(), (unsigned long long)e.arr_len, meta_type_name(e.arr_type));
                    }
                    e.arr_data = base_ + c.pos;
                    if (e.arr_type == GLM_META_BOOL) {
                        for (uint64_t j = 0; j < e.arr_len; j++) {
                            if (e.arr_data[j] > 1)
                                fail(GLM_ERR_FORMAT, "metadata '%s': bool element %llu is not 0/1", k.c_str(),
                                     (unsigned long long)j);
                        }
                    }
                    c.pos += e.arr_len * (uint64_t)es;
                }
                break;
            }
            default:
                fail(GLM_ERR_FORMAT, "metadata '%s': unknown value type %d", k.c_str(), e.type);
        }
        if (!meta_index.emplace(e.key, meta.size()).second) {
            fail(GLM_ERR_FORMAT, "duplicate metadata key '%s'", k.c_str());
        }
        meta.push_back(std::move(e));
    }
    // Rebuild the index: string_views point into the file, so moves do not invalidate them.
    alignment = 32;
    if (const MetaEntry *a = find_meta("general.alignment")) {
        if (a->type != GLM_META_UINT32)
            fail(GLM_ERR_FORMAT, "general.alignment must be uint32, is %s", meta_type_name(a->type));
        if (a->raw == 0 || (a->raw & (a->raw - 1)) != 0) {
            fail(GLM_ERR_FORMAT, "general.alignment %llu is not a power of two", (unsigned long long)a->raw);
        }
        alignment = a->raw;
    }

    tensors.clear();
    tensors.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; i++) {
        TensorInfo t;
        t.name = c.str("tensor name");
        std::string nm(t.name);
        if (t.name.empty() || t.name.size() >= kMaxTensorName) {
            fail(GLM_ERR_FORMAT, "tensor %llu: name length %zu is outside 1..63", (unsigned long long)i, t.name.size());
        }
        uint32_t nd = c.rd<uint32_t>("tensor dimension count");
        if (nd < 1 || nd > 4) fail(GLM_ERR_FORMAT, "tensor '%s': %u dimensions (1..4 allowed)", nm.c_str(), nd);
        t.n_dims = (int32_t)nd;
        uint64_t total = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint64_t ne = c.rd<uint64_t>("tensor dimension");
            if (ne == 0 || ne > (1ull << 40)) {
                fail(GLM_ERR_FORMAT, "tensor '%s': dimension %u has absurd size %llu", nm.c_str(), d,
                     (unsigned long long)ne);
            }
            if (total > (1ull << 50) / ne) fail(GLM_ERR_FORMAT, "tensor '%s': element count overflows", nm.c_str());
            total *= ne;
            t.ne[d] = (int64_t)ne;
        }
        t.type = (int32_t)c.rd<uint32_t>("tensor type");
        t.offset = c.rd<uint64_t>("tensor offset");
        TypeInfo ti = type_info(t.type);
        if (!ti.name) fail(GLM_ERR_FORMAT, "tensor '%s': unknown ggml type %d", nm.c_str(), t.type);
        if (t.ne[0] % ti.block != 0) {
            fail(GLM_ERR_FORMAT, "tensor '%s': row of %lld elements is not a multiple of the %s block size %d",
                 nm.c_str(), (long long)t.ne[0], ti.name, ti.block);
        }
        t.nbytes = total / (uint64_t)ti.block * (uint64_t)ti.bytes;
        if (t.offset % alignment != 0) {
            fail(GLM_ERR_FORMAT, "tensor '%s': offset %llu is not a multiple of the alignment %llu", nm.c_str(),
                 (unsigned long long)t.offset, (unsigned long long)alignment);
        }
        if (!tensor_index.emplace(t.name, tensors.size()).second) {
            fail(GLM_ERR_FORMAT, "duplicate tensor name '%s'", nm.c_str());
        }
        t.name_z = nm;
        tensors.push_back(std::move(t));
    }
    uint64_t pad = (alignment - c.pos % alignment) % alignment;
    data_offset = c.pos + pad;
    if (data_offset > size_) {
        if (n_tensors == 0)
            data_offset = size_;
        else
            fail(GLM_ERR_FORMAT, "truncated GGUF file: the data section would start at byte %llu, past the end (%llu)",
                 (unsigned long long)data_offset, (unsigned long long)size_);
    }
    const uint64_t data_size = size_ - data_offset;
    std::vector<size_t> order(tensors.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = i;
    for (TensorInfo &t : tensors) {
        if (t.offset > data_size || t.nbytes > data_size - t.offset) {
            fail(GLM_ERR_FORMAT,
                 "tensor '%s': data [%llu, +%llu) runs past the end of the file (data section holds %llu bytes)",
                 std::string(t.name).c_str(), (unsigned long long)t.offset, (unsigned long long)t.nbytes,
                 (unsigned long long)data_size);
        }
        t.data = base_ + data_offset + t.offset;
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    for (size_t i = 1; i < order.size(); i++) {
        const TensorInfo &p = tensors[order[i - 1]];
        const TensorInfo &q = tensors[order[i]];
        if (p.offset + p.nbytes > q.offset) {
            fail(GLM_ERR_FORMAT, "tensors '%s' and '%s' overlap in the data section", std::string(p.name).c_str(),
                 std::string(q.name).c_str());
        }
    }
}

bool meta_int(const MetaEntry &e, int64_t *out) {
    switch (e.type) {
        case GLM_META_UINT8:
        case GLM_META_UINT16:
        case GLM_META_UINT32:
        case GLM_META_BOOL:
        case GLM_META_INT8:
        case GLM_META_INT16:
        case GLM_META_INT32:
        case GLM_META_INT64:
            *out = (int64_t)e.raw;
            return true;
        case GLM_META_UINT64:
            if (e.raw > (uint64_t)INT64_MAX) return false;
            *out = (int64_t)e.raw;
            return true;
        default:
            return false;
    }
}

bool meta_float(const MetaEntry &e, double *out) {
    if (e.type == GLM_META_FLOAT32) {
        float f;
        uint32_t b = (uint32_t)e.raw;
        std::memcpy(&f, &b, 4);
        *out = f;
        return true;
    }
    if (e.type == GLM_META_FLOAT64) {
        std::memcpy(out, &e.raw, 8);
        return true;
    }
    return false;
}

} // namespace glm
