#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

namespace secmlops::plugins::attacks {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Labels = std::vector<int32_t>;
// Read-only rows: a matrix, a map of the host's buffer or a block of consecutive rows of either,
// without a copy.
using ConstRows = Eigen::Ref<const RowMatrix>;
using LabelSpan = std::span<const int32_t>;

// The model as an attack sees it: whole batches in, whole batches out. The plugin glue adapts the
// host's model handle; tests adapt plain C++ models.
class Oracle {
 public:
  virtual ~Oracle() = default;
  [[nodiscard]] virtual uint32_t n_classes() const = 0;
  [[nodiscard]] virtual bool has_gradient() const = 0;
  // out: rows × n_classes.
  virtual void predict_proba(const ConstRows& x, RowMatrix& out) = 0;
  // out: rows × cols, gradient of the model's loss for labels y (one per row).
  virtual void loss_gradient(const ConstRows& x, LabelSpan y, RowMatrix& out) = 0;
  // Throws when the host asked to stop; attacks call it once per iteration.
  virtual void check_cancelled() {}

  // Argmax of predict_proba (first maximum on ties, like numpy).
  Labels predict(const ConstRows& x);
  [[nodiscard]] uint64_t queries() const { return queries_; }

 protected:
  void count(uint64_t rows) { queries_ += rows; }

 private:
  uint64_t queries_ = 0;
};

}  // namespace secmlops::plugins::attacks
