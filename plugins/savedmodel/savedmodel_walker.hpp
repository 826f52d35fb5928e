// Walks a TensorFlow SavedModel (saved_model.pb) at the protobuf wire level: every node of every
// meta graph and of the function library is checked against a list of operations that run
// Python, touch the file system or the network. No TensorFlow, no protobuf runtime.
#pragma once

#include "secmlops/protowire/walk.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <cstdint>

namespace secmlops::plugins::savedmodel {

struct WalkOptions {
  uint64_t max_tracked_nodes =
      20000;  // per graph/function, for resolving constant paths (bounds memory)
};

// Findings go to `emit` as they are seen; the host caps how many of one rule a report lists.
using WalkContext = protowire::WalkHooks;

struct WalkStats {
  uint64_t meta_graphs = 0;
  uint64_t nodes = 0;
  uint64_t functions = 0;
};

// Throws protowire::ParseError (with the byte offset) on malformed input.
WalkStats walk_saved_model(sdk::Source& source, const WalkContext& ctx,
                           const WalkOptions& options = {});

}  // namespace secmlops::plugins::savedmodel
