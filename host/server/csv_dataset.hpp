#pragma once

#include "secmlops/host/matrix.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secmlops::server {

struct LabeledData {
  host::DenseMatrix x;
  std::vector<int32_t> y;
};

// Parses numeric CSV (comma-separated, optional header) into features and integer labels.
// `label_column` is a header name, a 0-based index, or empty for the last column. Throws
// std::invalid_argument naming the line and column on bad input; at most `max_values` cells.
LabeledData parse_labeled_csv(std::string_view text, const std::string& label_column,
                              bool has_header, uint64_t max_values);

}  // namespace secmlops::server
