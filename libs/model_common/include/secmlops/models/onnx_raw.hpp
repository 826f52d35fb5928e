// An ONNX model parsed without copying the raw bytes of its nodes' tensor attributes: a model
// whose weights are a few large raw tensors (the TreeArrays node) would otherwise be copied whole
// by the protobuf parse before being read once.
#pragma once

#include <onnx/onnx.pb.h>
#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace secmlops::models::onnx_io {

struct LeanModel {
  // The model with every graph node's tensor attributes' raw_data empty.
  onnx::ModelProto model;
  // The raw_data of graph node `node`'s attribute number `attribute` (the tensor `t`), a view
  // into the parsed bytes; empty when it has none.
  [[nodiscard]] std::string_view raw(size_t node, size_t attribute) const;

  struct Raw {
    size_t node, attribute;
    std::string_view bytes;
  };
  std::vector<Raw> raws;  // in node and attribute order
};

// The model, when its wire format is the plain one a writer produces (one graph, each tensor
// attribute's `t` and its raw_data once): then the parse is the protobuf parse of the same bytes
// without those raw_data fields. nullopt otherwise, or when that parse fails: parse() then
// gives the model or the error. The bytes must outlive the result.
std::optional<LeanModel> parse_lean(sdk::Bytes bytes);

}  // namespace secmlops::models::onnx_io
