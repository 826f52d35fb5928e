// Validation of a safetensors file's header: everything except the tensor bytes.
//
// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON (an object mapping tensor
// names to {dtype, shape, data_offsets} plus an optional "__metadata__" string map), then the
// data region. Offsets are relative to the data region. An honest file's tensors tile the data
// region exactly; anything else (gaps, overlaps, trailing bytes, sizes that disagree with
// shapes) is either corruption or bytes hidden from loaders (polyglot files).
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::plugins::safetensors {

// The reference implementation refuses headers above 100 MB (MAX_HEADER_SIZE); so do we.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Nesting deeper than this is never a safetensors header (real ones are 3 levels deep).
inline constexpr int kMaxJsonDepth = 64;

struct Result {
  std::vector<sdk::Finding> findings;
  size_t tensors = 0;
  // Set when the header could not be read at all (the caller reports a parse error).
  std::string error;
  uint64_t error_offset = 0;
};

// Confidence (0..100) that `head` starts a safetensors file.
uint32_t probe(sdk::Bytes head);

// Checks the 8-byte prefix value against the file size. Returns true when the header bytes
// [8, 8 + header_len) can be read and validated; otherwise adds the finding explaining why.
bool check_header_length(uint64_t header_len, uint64_t file_size, Result& result);

// Validates the header JSON of a file of `file_size` bytes whose prefix declared `header.size()`.
void validate_header(std::string_view header, uint64_t file_size, Result& result);

// Both steps over a complete file image (tests and fuzzing).
Result validate_file(sdk::Bytes file);

// Bytes per element in bits for a safetensors dtype name; 0 when unknown.
uint32_t dtype_bits(std::string_view dtype);

}  // namespace secmlops::plugins::safetensors
