// The logistic regression model plugin: SDK glue around LogisticRegression.
#include "logreg.hpp"

#include <secmlops/models/params.hpp>
#include <secmlops/sdk/plugin.hpp>

namespace secmlops::plugins::logreg {
namespace {

class LogregPlugin : public sdk::Model {
 public:
  static constexpr const char* name = "logreg";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "logistic regression (binary/multinomial, L2, L-BFGS), cross-entropy input gradients, ONNX "
      "LinearClassifier";
  static constexpr const char* license = "Apache-2.0";
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_DOUBLE, "C", "inverse L2 regularisation strength", "1"),
      sdk::option(SECMLOPS_OPTION_BOOL, "fit_intercept", "learn an intercept", "true"),
      sdk::option(SECMLOPS_OPTION_INT, "max_iter", "L-BFGS iterations at most", "100"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "tol", "convergence tolerance", "0.0001")};

  explicit LogregPlugin(const sdk::Config&) {}

  void fit(sdk::Job& job, const sdk::Matrix& x, std::span<const int32_t> y,
           const sdk::Config& config) {
    models::Params p(config, options);
    Options o;
    o.C = p.positive("C", 1.0);
    o.fit_intercept = p.flag("fit_intercept", true);
    o.max_iter = static_cast<int>(p.integer("max_iter", 100, 1, 1000000));
    o.tol = p.positive("tol", 1e-4, true);
    models::check_finite(x, "training data");
    lr_.fit(models::as_eigen(x), y, o, [&](int it, double objective) {
      job.metric("objective", objective, it);
      return !job.cancelled();
    });
    job.check_cancelled();
    if (!lr_.solver().converged)
      job.log(SECMLOPS_LOG_WARN, "logreg: L-BFGS stopped without converging after " +
                                     std::to_string(lr_.solver().iterations) + " iterations (" +
                                     lr_.solver().reason + "); raise max_iter");
  }

  sdk::ModelInfo info() const {
    if (!lr_.fitted()) throw sdk::Error(SECMLOPS_ERR_STATE, "logreg: model is not fitted");
    return {static_cast<uint64_t>(lr_.model().n_features()), lr_.model().n_classes, true};
  }

  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    check_input(x);
    lr_.predict_proba(models::as_eigen(x),
                      models::output_map(out, x.rows(), lr_.model().n_classes));
  }

  void loss_gradient(sdk::Job&, const sdk::Matrix& x, const int32_t* y, double* out) const {
    check_input(x);
    if (y == nullptr && x.rows() > 0)
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels are NULL");
    for (uint64_t i = 0; i < x.rows(); ++i)
      if (y[i] < 0 || static_cast<uint32_t>(y[i]) >= lr_.model().n_classes)
        throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "label " + std::to_string(y[i]) +
                                                            " of row " + std::to_string(i) +
                                                            " is not a class index");
    lr_.loss_gradient(models::as_eigen(x), y, models::output_map(out, x.rows(), x.cols()));
  }

  void describe(sdk::Job& job) const {
    info();
    const auto& m = lr_.model();
    job.metric("n_features", static_cast<double>(m.n_features()));
    job.metric("n_classes", m.n_classes);
    job.metric("parameters", static_cast<double>(m.coef.size() + m.intercept.size()));
    job.metric("coef_l2_norm", m.coef.norm());
    job.metric("coef_max_abs", m.coef.cwiseAbs().maxCoeff());
    job.metric("intercept_l2_norm", m.intercept.norm());
    if (lr_.solver().iterations >= 0) {
      job.metric("solver_iterations", lr_.solver().iterations);
      job.metric("converged", lr_.solver().converged ? 1 : 0);
    }
    job.property("solver", "lbfgs");
    job.property("link", link_name(lr_.link()));
    job.property("solver_status", lr_.solver().reason);
  }

  std::vector<uint8_t> export_onnx(sdk::Job&) const {
    info();
    return lr_.to_onnx();
  }

  void import_onnx(sdk::Job&, sdk::Bytes bytes) { lr_ = LogisticRegression::from_onnx(bytes); }

 private:
  void check_input(const sdk::Matrix& x) const {
    info();
    if (x.cols() != static_cast<uint64_t>(lr_.model().n_features()))
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "input has " + std::to_string(x.cols()) +
                                                          " features, the model expects " +
                                                          std::to_string(lr_.model().n_features()));
  }

  LogisticRegression lr_;
};

}  // namespace
}  // namespace secmlops::plugins::logreg

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::logreg::LogregPlugin)
