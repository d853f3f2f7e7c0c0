// GGUF v3 reader over a read-only mapping. Every offset, count and size is checked against the
// file before use; failures throw glm::Error with GLM_ERR_FORMAT / GLM_ERR_IO and a precise message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace glm {

struct MetaEntry {
    std::string_view key;
    int32_t type = 0;      // glm_meta_type
    uint64_t raw = 0;      // scalar bits (integers zero/sign-extended per type, floats as bits)
    std::string_view str;  // STRING
    int32_t arr_type = -1; // ARRAY element type
    uint64_t arr_len = 0;
    const uint8_t *arr_data = nullptr;         // numeric arrays: packed data
    std::vector<std::string_view> arr_strings; // string arrays
};

struct TensorInfo {
    std::string_view name;
    std::string name_z; // NUL-terminated copy for the C API
    int32_t type = 0;
    int32_t n_dims = 0;
    int64_t ne[4] = {1, 1, 1, 1};
    uint64_t offset = 0; // relative to the data section
    uint64_t nbytes = 0;
    const uint8_t *data = nullptr;
};

class GgufFile {
public:
    // Opens and parses `path`. use_mmap=false reads the file into memory instead. A split model
    // (llama.cpp's gguf-split: `split.count` > 1, files named PREFIX-0000N-of-0000M.gguf) is opened
    // from its first part: the other parts are opened beside it and their tensors join `tensors`
    // (metadata comes from the first part, as gguf-split writes all of it there).
    void open(const char *path, bool use_mmap);
    // Parts of a split model after the first (empty for a single file).
    size_t n_parts() const { return parts_.size() + 1; }
    // Parses an in-memory buffer (not owned; must outlive this object). For tests.
    void parse_buffer(const uint8_t *data, uint64_t size);
    ~GgufFile();

    uint32_t version = 0;
    uint64_t alignment = 32;
    uint64_t data_offset = 0;
    std::vector<MetaEntry> meta;
    std::vector<TensorInfo> tensors;
    std::unordered_map<std::string_view, size_t> meta_index;
    std::unordered_map<std::string_view, size_t> tensor_index;

    const MetaEntry *find_meta(std::string_view key) const;
    const TensorInfo *find_tensor(std::string_view name) const;
    // True when tensor data lives in a read-only file mapping (pages can be dropped and re-read).
    bool mapped() const { return map_ != nullptr; }

private:
    void parse();
    void open_one(const char *path, bool use_mmap);
    void open_split_parts(const std::string &path, bool use_mmap);
    std::vector<std::unique_ptr<GgufFile>> parts_;
    const uint8_t *base_ = nullptr;
    uint64_t size_ = 0;
    void *map_ = nullptr;
    uint64_t map_size_ = 0;
    std::vector<uint8_t> owned_;
};

// Scalar readers with type flexibility; throw on a wrong type or out-of-range value.
bool meta_int(const MetaEntry &e, int64_t *out);
bool meta_float(const MetaEntry &e, double *out);

} // namespace glm
