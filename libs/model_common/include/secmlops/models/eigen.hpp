// Eigen views of SDK matrices and the numerically stable building blocks every classifier uses.
#pragma once

#include <secmlops/sdk/plugin.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <cstdint>
#include <span>

namespace secmlops::models {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;
using RowMap = Eigen::Map<RowMatrix>;
using Vector = Eigen::VectorXd;

// Zero-copy row-major view of an SDK matrix.
inline ConstRowMap as_eigen(const sdk::Matrix& m) {
  return {m.data(), static_cast<Eigen::Index>(m.rows()), static_cast<Eigen::Index>(m.cols())};
}
// View of a host-allocated output buffer of rows × cols doubles.
inline RowMap output_map(double* out, uint64_t rows, uint64_t cols) {
  return {out, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}

inline double sigmoid(double z) {
  // Two branches so that exp never overflows.
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}
// log(1 + exp(z)) without overflow.
inline double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

// Row-wise softmax in place (subtracting the row max keeps exp finite).
template <class Derived>
void softmax_rows(Eigen::MatrixBase<Derived>& z) {
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    auto row = z.row(r);
    double m = row.maxCoeff();
    row = (row.array() - m).exp().matrix();
    row /= row.sum();
  }
}

// Row-wise log-sum-exp.
template <class Derived>
Vector logsumexp_rows(const Eigen::MatrixBase<Derived>& z) {
  Vector out(z.rows());
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    double m = z.row(r).maxCoeff();
    out(r) = m + std::log((z.row(r).array() - m).exp().sum());
  }
  return out;
}

// Row-wise log-softmax: z - logsumexp(z).
inline RowMatrix log_softmax_rows(const RowMatrix& z) {
  Vector lse = logsumexp_rows(z);
  return z.colwise() - lse;
}

// n × k indicator matrix of class indices.
inline RowMatrix one_hot(std::span<const int32_t> y, Eigen::Index k) {
  RowMatrix out = RowMatrix::Zero(static_cast<Eigen::Index>(y.size()), k);
  for (size_t i = 0; i < y.size(); ++i) out(static_cast<Eigen::Index>(i), y[i]) = 1.0;
  return out;
}

// ONNX stores weights as float32. Fitted parameters are rounded to float32 once at the end of
// training so that export → import reproduces the model bit for bit.
template <class Derived>
void round_to_float(Eigen::DenseBase<Derived>& m) {
  m = m.template cast<float>().template cast<double>();
}

}  // namespace secmlops::models
