#pragma once

#include <secmlops/sdk/abi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace secmlops::host {

// A dense row-major matrix of doubles owned by the host.
struct DenseMatrix {
  uint64_t rows = 0;
  uint64_t cols = 0;
  std::vector<double> data;

  DenseMatrix() = default;
  DenseMatrix(uint64_t r, uint64_t c) : rows(r), cols(c), data(r * c, 0.0) {}
  DenseMatrix(uint64_t r, uint64_t c, std::vector<double> values)
      : rows(r), cols(c), data(std::move(values)) {
    if (data.size() != r * c)
      throw std::invalid_argument("matrix data has " + std::to_string(data.size()) +
                                  " values, shape " + std::to_string(r) + "x" + std::to_string(c) +
                                  " needs " + std::to_string(r * c));
  }
  double& operator()(uint64_t r, uint64_t c) { return data[r * cols + c]; }
  double operator()(uint64_t r, uint64_t c) const { return data[r * cols + c]; }
  [[nodiscard]] secmlops_matrix view() const {
    return secmlops_matrix{sizeof(secmlops_matrix), SECMLOPS_DTYPE_F64, rows, cols, data.data()};
  }
};

// The predicted class per row of a probability matrix: the first column holding the row's
// largest value (scikit-learn's argmax).
inline std::vector<int32_t> argmax_rows(const DenseMatrix& proba) {
  std::vector<int32_t> out(proba.rows);
  for (uint64_t r = 0; r < proba.rows; ++r) {
    const double* row = proba.data.data() + r * proba.cols;
    out[r] = static_cast<int32_t>(std::max_element(row, row + proba.cols) - row);
  }
  return out;
}

// Every operation that takes a matrix refuses NaN and infinities: a NaN row would count as
// classified correctly and norms would turn NaN. Throws std::invalid_argument naming the first
// offending cell (row and column from 0) and `what` the matrix is.
inline void require_finite(const double* values, uint64_t rows, uint64_t cols,
                           const std::string& what) {
  for (uint64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(values[i]))
      throw std::invalid_argument(what + " holds " +
                                  (std::isnan(values[i]) ? "NaN" : "an infinity") + " at row " +
                                  std::to_string(i / cols) + ", column " +
                                  std::to_string(i % cols) + ": only finite numbers are accepted");
}
inline void require_finite(const DenseMatrix& m, const std::string& what) {
  require_finite(m.data.data(), m.rows, m.cols, what);
}

}  // namespace secmlops::host
