// Walks an ONNX ModelProto at the protobuf wire level and reports what running the model would
// do beyond arithmetic: native custom operators, Python operators, external-data files that
// escape the model's directory, inconsistent or absurd tensor sizes. Tensor payloads are
// skipped by offset, never read, so models of any size are scanned in constant memory.
#pragma once

#include "secmlops/protowire/walk.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace secmlops::plugins::onnx {

struct WalkOptions {
  uint32_t max_graph_depth = 24;  // nested subgraphs (If/Loop/Scan bodies, functions)
  uint64_t max_tensor_bytes = 1ull
                              << 40;  // one tensor declaring more is a resource-exhaustion risk
  uint32_t max_rank = 64;
};

// How the walker talks to the outside world: the plugin binds these to host services, tests
// bind them to vectors and fake file systems. The host caps how many findings of one rule a
// report lists.
struct WalkContext : protowire::WalkHooks {
  // Facts about a file next to the model (never opened by the walker).
  std::function<secmlops_sibling_info(const std::string&)> stat_sibling;
};

struct WalkStats {
  uint64_t nodes = 0;
  uint64_t tensors = 0;
  uint64_t graphs = 0;
  uint64_t functions = 0;
  uint64_t external_tensors = 0;
  uint64_t bytes_fetched = 0;
};

// Scans one model. Throws protowire::ParseError (with the byte offset) on malformed input;
// findings emitted before the error stand.
WalkStats walk_model(sdk::Source& source, const WalkContext& ctx, const WalkOptions& options = {});

}  // namespace secmlops::plugins::onnx
