#pragma once

#include "oracle.hpp"

namespace secmlops::plugins::attacks::test {

// p = softmax(x W + b), loss = cross-entropy: the model the NumPy reference implements.
class LinearSoftmax final : public Oracle {
 public:
  LinearSoftmax(RowMatrix w, Eigen::RowVectorXd b) : w_(std::move(w)), b_(std::move(b)) {}
  [[nodiscard]] uint32_t n_classes() const override { return static_cast<uint32_t>(w_.cols()); }
  [[nodiscard]] bool has_gradient() const override { return true; }
  void predict_proba(const ConstRows& x, RowMatrix& out) override {
    out = (x * w_).rowwise() + b_;
    for (Eigen::Index r = 0; r < out.rows(); ++r) {
      out.row(r).array() -= out.row(r).maxCoeff();
      out.row(r) = out.row(r).array().exp();
      out.row(r) /= out.row(r).sum();
    }
    count(static_cast<uint64_t>(x.rows()));
  }
  void loss_gradient(const ConstRows& x, LabelSpan y, RowMatrix& out) override {
    RowMatrix p;
    predict_proba(x, p);
    for (Eigen::Index r = 0; r < p.rows(); ++r) p(r, y[static_cast<size_t>(r)]) -= 1;
    out = p * w_.transpose();
  }

 private:
  RowMatrix w_;
  Eigen::RowVectorXd b_;
};

}  // namespace secmlops::plugins::attacks::test
