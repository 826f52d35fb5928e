// Linear SVM with the squared hinge loss and an L2 penalty, one-vs-rest for several classes:
// for each class c (or the positive class when there are two) with targets t_i = ±1
//   ½‖w‖² + ½b² + C · Σ_i max(0, 1 − t_i (w·x_i + b))²
// which is scikit-learn's LinearSVC default (liblinear penalises the intercept as the weight
// of a constant feature, intercept_scaling = 1). The objective is once differentiable and is
// minimised in the primal with L-BFGS.
//
// Probabilities (an SVM has none of its own; documented in docs/models.md): the sigmoid of the
// decision value f(x) for two classes, the softmax of the one-vs-rest decision values for more.
//
// Input gradient: that of the loss ART uses for linear SVMs, L(x, y) = −s_y(x), the negative
// score of the true class, where the scores are [−f, f] for two classes and the one-vs-rest
// decision values otherwise: ∂L/∂x = −w_y (binary: +w for y = 0, −w for y = 1).
#pragma once

#include <secmlops/models/eigen.hpp>
#include <secmlops/models/lbfgs.hpp>
#include <secmlops/models/linear_onnx.hpp>

#include <span>

namespace secmlops::plugins::linear_svm {

using models::ConstRowMap;
using models::RowMap;

struct Options {
  double C = 1.0;
  bool fit_intercept = true;
  int max_iter = 1000;
  double tol = 1e-4;
};

class LinearSvm {
 public:
  void fit(const ConstRowMap& x, std::span<const int32_t> y, const Options& options,
           const models::IterationHook& hook = {});
  void predict_proba(const ConstRowMap& x, RowMap out) const;
  void loss_gradient(const ConstRowMap& x, const int32_t* y, RowMap out) const;
  // n × rows decision values (one column for a binary model).
  [[nodiscard]] models::RowMatrix decision_function(const ConstRowMap& x) const {
    return model_.decision(x);
  }

  [[nodiscard]] std::vector<uint8_t> to_onnx() const;
  static LinearSvm from_onnx(sdk::Bytes bytes);

  [[nodiscard]] bool fitted() const { return model_.n_classes != 0; }
  [[nodiscard]] const models::LinearModel& model() const { return model_; }
  [[nodiscard]] const models::LbfgsResult& solver() const {
    return solver_;
  }  // summed over classes
  // Training rows inside the margin (t·f < 1) summed over the one-vs-rest problems: the rows
  // that define the solution, the primal counterpart of support vectors. -1 when unknown.
  [[nodiscard]] int64_t margin_rows() const { return margin_rows_; }

 private:
  models::LinearModel model_;
  models::LbfgsResult solver_;
  int64_t margin_rows_ = -1;
};

}  // namespace secmlops::plugins::linear_svm
