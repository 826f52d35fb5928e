// The linear SVM model plugin: SDK glue around LinearSvm.
#include "linear_svm.hpp"

#include <secmlops/models/params.hpp>
#include <secmlops/sdk/plugin.hpp>

namespace secmlops::plugins::linear_svm {
namespace {

class LinearSvmPlugin : public sdk::Model {
 public:
  static constexpr const char* name = "linear_svm";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "linear SVM (squared hinge, L2, one-vs-rest, primal L-BFGS), ART-style input gradients, ONNX "
      "LinearClassifier";
  static constexpr const char* license = "Apache-2.0";
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_DOUBLE, "C", "inverse L2 regularisation strength", "1"),
      sdk::option(SECMLOPS_OPTION_BOOL, "fit_intercept", "learn an intercept", "true"),
      sdk::option(SECMLOPS_OPTION_INT, "max_iter", "L-BFGS iterations at most", "1000"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "tol", "convergence tolerance", "0.0001")};

  explicit LinearSvmPlugin(const sdk::Config&) {}

  void fit(sdk::Job& job, const sdk::Matrix& x, std::span<const int32_t> y,
           const sdk::Config& config) {
    models::Params p(config, options);
    Options o;
    o.C = p.positive("C", 1.0);
    o.fit_intercept = p.flag("fit_intercept", true);
    o.max_iter = static_cast<int>(p.integer("max_iter", 1000, 1, 1000000));
    o.tol = p.positive("tol", 1e-4, true);
    models::check_finite(x, "training data");
    svm_.fit(models::as_eigen(x), y, o, [&](int it, double objective) {
      job.metric("objective", objective, it);
      return !job.cancelled();
    });
    job.check_cancelled();
    if (!svm_.solver().converged)
      job.log(SECMLOPS_LOG_WARN, "linear_svm: L-BFGS stopped without converging (" +
                                     svm_.solver().reason + "); raise max_iter");
  }

  sdk::ModelInfo info() const {
    if (!svm_.fitted()) throw sdk::Error(SECMLOPS_ERR_STATE, "linear_svm: model is not fitted");
    return {static_cast<uint64_t>(svm_.model().n_features()), svm_.model().n_classes, true};
  }

  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    check_input(x);
    svm_.predict_proba(models::as_eigen(x),
                       models::output_map(out, x.rows(), svm_.model().n_classes));
  }

  void loss_gradient(sdk::Job&, const sdk::Matrix& x, const int32_t* y, double* out) const {
    check_input(x);
    if (y == nullptr && x.rows() > 0)
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels are NULL");
    for (uint64_t i = 0; i < x.rows(); ++i)
      if (y[i] < 0 || static_cast<uint32_t>(y[i]) >= svm_.model().n_classes)
        throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "label " + std::to_string(y[i]) +
                                                            " of row " + std::to_string(i) +
                                                            " is not a class index");
    svm_.loss_gradient(models::as_eigen(x), y, models::output_map(out, x.rows(), x.cols()));
  }

  void describe(sdk::Job& job) const {
    info();
    const auto& m = svm_.model();
    job.metric("n_features", static_cast<double>(m.n_features()));
    job.metric("n_classes", m.n_classes);
    job.metric("parameters", static_cast<double>(m.coef.size() + m.intercept.size()));
    job.metric("coef_l2_norm", m.coef.norm());
    job.metric("coef_max_abs", m.coef.cwiseAbs().maxCoeff());
    // The geometric margin of each one-vs-rest problem is 1/‖w_c‖; the smallest is reported.
    job.metric("min_margin_width", 1.0 / m.coef.rowwise().norm().maxCoeff());
    if (svm_.margin_rows() >= 0) job.metric("margin_rows", static_cast<double>(svm_.margin_rows()));
    if (svm_.solver().iterations >= 0) {
      job.metric("solver_iterations", svm_.solver().iterations);
      job.metric("converged", svm_.solver().converged ? 1 : 0);
    }
    job.property("solver", "lbfgs (primal squared hinge)");
    job.property("multiclass", m.binary() ? "binary" : "one-vs-rest");
    job.property("probability", m.binary() ? "sigmoid(decision)" : "softmax(decisions)");
    job.property("solver_status", svm_.solver().reason);
  }

  std::vector<uint8_t> export_onnx(sdk::Job&) const {
    info();
    return svm_.to_onnx();
  }

  void import_onnx(sdk::Job&, sdk::Bytes bytes) { svm_ = LinearSvm::from_onnx(bytes); }

 private:
  void check_input(const sdk::Matrix& x) const {
    info();
    if (x.cols() != static_cast<uint64_t>(svm_.model().n_features()))
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                       "input has " + std::to_string(x.cols()) + " features, the model expects " +
                           std::to_string(svm_.model().n_features()));
  }

  LinearSvm svm_;
};

}  // namespace
}  // namespace secmlops::plugins::linear_svm

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::linear_svm::LinearSvmPlugin)
