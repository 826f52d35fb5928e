// GGUF header validation: metadata key/values and tensor infos, never the tensor data.
//
// Layout (little endian): "GGUF", u32 version, tensor count and metadata count (u32 in v1, u64
// since v2), the metadata key/values, the tensor infos (name, dims, ggml type, offset relative
// to the data section), padding to general.alignment (default 32), the data section. Every
// count and length is checked against the limits below and against the bytes actually left in
// the file before anything is skipped or read.
#pragma once

#include <secmlops/sdk/plugin.hpp>
#include <secmlops/sdk/source.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace secmlops::plugins::gguf {

struct Limits {
  uint64_t max_tensors = 1u << 20;    // real models: hundreds to tens of thousands
  uint64_t max_kv = 1u << 20;         // real models: tens
  uint64_t max_string = 64ull << 20;  // one metadata string (chat templates are KBs)
  uint64_t max_key = 64ull << 10;     // one key or tensor name
  uint64_t max_array = 1ull << 28;    // elements of one array (vocabularies: ~256k)
  uint32_t max_array_depth = 4;       // arrays of arrays (loaders support none)
  uint32_t max_dims = 4;              // GGML_MAX_DIMS
  uint64_t max_template_read = 64ull
                               << 20;  // chat template bytes inspected: all of them (max_string)
};

struct Result {
  std::vector<sdk::Finding> findings;
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  // Set when parsing stopped before the end of the tensor infos (truncation, a limit, an
  // unknown value type): the findings so far stand, the rest of the header was not checked.
  std::string error;
  uint64_t error_offset = 0;
};

// Confidence (0..100) that `head` starts a GGUF file.
uint32_t probe(sdk::Bytes head);

// Parses and validates the file (the host stream, or a memory image in tests). `cancelled` is
// polled every few thousand elements (may be empty).
Result validate(sdk::Source& source, const Limits& limits = {},
                const std::function<bool()>& cancelled = {});

}  // namespace secmlops::plugins::gguf
