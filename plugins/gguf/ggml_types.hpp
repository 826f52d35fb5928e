// ggml tensor types as GGUF files name them by number: block size (elements) and block bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace secmlops::plugins::gguf {

struct GgmlType {
  std::string_view name;
  uint32_t block_elements;
  uint32_t block_bytes;
};

// The layout of ggml type `id`, or nullopt for numbers ggml never assigned or has removed.
std::optional<GgmlType> ggml_type(uint32_t id);

}  // namespace secmlops::plugins::gguf
