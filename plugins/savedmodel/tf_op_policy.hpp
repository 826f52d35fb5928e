// TensorFlow operations that reach outside the graph: Python callbacks, file system, network.
#pragma once

#include <secmlops/sdk/abi.h>

#include <string_view>

namespace secmlops::plugins::savedmodel {

struct OpRisk {
  secmlops_severity severity;
  const char* rule_id;  // nullptr: nothing to report
  const char* why;
};

// The risk of running a node of type `op`.
OpRisk classify_op(std::string_view op);

// Save/Restore-family ops: their path input is checked when it is a constant.
bool is_checkpoint_op(std::string_view op);

}  // namespace secmlops::plugins::savedmodel
