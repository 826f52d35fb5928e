#pragma once

#include "secmlops/host/matrix.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace secmlops::server {

struct LabeledData {
  host::DenseMatrix x;
  std::vector<int32_t> y;
};

// Training data from a TrainRequest's CSV text, read by the host's CSV reader: numeric feature
// columns and one column of integer class labels. `label_column` is a header name, a 0-based
// index, or empty for the last column. Bad input throws host::DataError naming the line and
// column ("CSV line 2, column 2" without a header); more than `max_values` cells throws
// std::length_error.
LabeledData parse_labeled_csv(const std::string& text, const std::string& label_column,
                              bool has_header, uint64_t max_values);

}  // namespace secmlops::server
