// Logistic regression with an L2 penalty, fitted by L-BFGS on scikit-learn's objective
//   C · Σ_i loss_i + ½‖W‖²   (the intercept is not penalised)
// where loss_i is the binary logistic loss for two classes and the multinomial (softmax)
// cross-entropy for more, as LogisticRegression(solver="lbfgs") does.
#pragma once

#include <secmlops/models/eigen.hpp>
#include <secmlops/models/lbfgs.hpp>
#include <secmlops/models/linear_onnx.hpp>

#include <span>
#include <string>

namespace secmlops::plugins::logreg {

using models::ConstRowMap;
using models::RowMap;

struct Options {
  double C = 1.0;
  bool fit_intercept = true;
  int max_iter = 100;
  double tol = 1e-4;
};

class LogisticRegression {
 public:
  // How scores become probabilities. Fitted models are Binary or Multinomial; OneVsRest
  // (sigmoid per class, then L1-normalised) exists for imported one-vs-rest models.
  enum class Link { Binary, Multinomial, OneVsRest };

  // y holds class indices 0..k-1 with every class present. `hook` is called per iteration
  // (return false to cancel).
  void fit(const ConstRowMap& x, std::span<const int32_t> y, const Options& options,
           const models::IterationHook& hook = {});
  void predict_proba(const ConstRowMap& x, RowMap out) const;
  // Gradient of the cross-entropy −log p_y(x) with respect to x, for every row.
  void loss_gradient(const ConstRowMap& x, const int32_t* y, RowMap out) const;

  [[nodiscard]] std::vector<uint8_t> to_onnx() const;
  // Throws sdk::Error(UNSUPPORTED) for graphs that are not a logistic regression.
  static LogisticRegression from_onnx(sdk::Bytes bytes);

  [[nodiscard]] bool fitted() const { return model_.n_classes != 0; }
  [[nodiscard]] const models::LinearModel& model() const { return model_; }
  [[nodiscard]] Link link() const { return link_; }
  [[nodiscard]] const models::LbfgsResult& solver() const { return solver_; }

 private:
  models::LinearModel model_;
  Link link_ = Link::Binary;
  models::LbfgsResult solver_;
};

const char* link_name(LogisticRegression::Link link);

}  // namespace secmlops::plugins::logreg
