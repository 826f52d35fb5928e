// The rbf_svm model plugin: SDK glue around SvmModel (svm_model.hpp) and its ONNX mapping.
#include "svm_model.hpp"
#include "svm_onnx.hpp"

#include <secmlops/sdk/plugin.hpp>

namespace {

namespace sdk = secmlops::sdk;
namespace svm = secmlops::plugins::rbf_svm;

class RbfSvmModel : public sdk::Model {
 public:
  static constexpr const char* name = "rbf_svm";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "C-SVC with RBF kernel (SMO, one-vs-one, Platt probabilities); ONNX SVMClassifier (imports "
      "linear, poly and sigmoid kernels too)";
  // Fit parameters, the only keys accepted (the host refuses others before create and fit;
  // parse_params checks their ranges); n_jobs also as the instance's default.
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_DOUBLE, "C", "penalty of margin violations", "1"),
      sdk::option(SECMLOPS_OPTION_STRING, "gamma", "RBF width: scale, auto or a positive number",
                  "scale"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "tol", "SMO stopping tolerance", "0.001"),
      sdk::option(SECMLOPS_OPTION_INT, "max_iter", "SMO iterations at most (-1: no limit)", "-1"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "cache_size", "kernel cache in MB", "200"),
      sdk::option(SECMLOPS_OPTION_INT, "probability_cv", "folds of Platt scaling (0: none)", "5"),
      sdk::option(SECMLOPS_OPTION_INT, "seed", "random seed", "0"),
      sdk::option(SECMLOPS_OPTION_INT, "random_state", "scikit-learn's name for seed", "0"),
      sdk::option(SECMLOPS_OPTION_INT, "n_jobs", "threads (0: every core)", "0"),
      sdk::option(SECMLOPS_OPTION_STRING, "kernel", "rbf only (accepted for scikit-learn parity)",
                  "rbf")};

  explicit RbfSvmModel(const sdk::Config& config)
      : n_jobs_(static_cast<int>(config.get_int("n_jobs", 0))) {}

  void fit(sdk::Job& job, const sdk::Matrix& x, std::span<const int32_t> y,
           const sdk::Config& params) {
    svm::SvmParams p = svm::parse_params(params);
    if (!params.has("n_jobs")) p.n_jobs = n_jobs_;
    model_.fit(
        x.data(), x.rows(), x.cols(), y, p,
        [&](const std::string& m) { job.log(SECMLOPS_LOG_WARN, m); },
        [&] { job.check_cancelled(); });
    model_.set_n_jobs(p.n_jobs);  // the fit's n_jobs, else the instance's
    job.log(SECMLOPS_LOG_INFO,
            "fitted " + std::to_string(model_.support_vectors().rows()) + " support vectors");
  }

  [[nodiscard]] sdk::ModelInfo info() const {
    return {model_.n_features(), model_.n_classes(), model_.fitted()};
  }

  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    check(x);
    model_.predict_proba(x.data(), x.rows(), out);
  }

  void loss_gradient(sdk::Job&, const sdk::Matrix& x, const int32_t* y, double* out) const {
    check(x);
    if (y == nullptr && x.rows() > 0)
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels are NULL");
    model_.loss_gradient(x.data(), x.rows(), y, out);
  }

  void describe(sdk::Job& job) const {
    if (!model_.fitted()) throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the SVM is not fitted");
    const auto& ns = model_.n_support();
    for (size_t c = 0; c < ns.size(); ++c)
      job.metric("support_vectors_class_" + std::to_string(c), ns[c]);
    const auto nsv = static_cast<double>(model_.support_vectors().rows());
    job.metric("support_vectors", nsv);
    const auto& kernel = model_.kernel();
    job.property("kernel", kernel.name());
    if (kernel.type != svm::Kernel::linear) job.metric("gamma", kernel.gamma);
    if (kernel.type == svm::Kernel::poly || kernel.type == svm::Kernel::sigmoid)
      job.metric("coef0", kernel.coef0);
    if (kernel.type == svm::Kernel::poly) job.metric("degree", kernel.degree);
    if (model_.C() > 0) job.metric("C", model_.C());
    job.metric("features", static_cast<double>(model_.n_features()));
    // Support vector coordinates, their coefficients, one intercept and two Platt values per pair.
    const double pairs = static_cast<double>(model_.intercept().size());
    job.metric("parameters", nsv * static_cast<double>(model_.n_features()) +
                                 static_cast<double>(model_.dual_coef().size()) + pairs * 3);
    job.property("model", "rbf_svm");
    job.property("onnx_operator", "ai.onnx.ml.SVMClassifier");
  }

  std::vector<uint8_t> export_onnx(sdk::Job&) const { return svm::export_onnx(model_); }
  void import_onnx(sdk::Job&, sdk::Bytes bytes) {
    model_ = svm::import_onnx(bytes);
    model_.set_n_jobs(n_jobs_);
  }

 private:
  void check(const sdk::Matrix& x) const {
    if (!model_.fitted()) throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the SVM is not fitted");
    if (x.cols() != model_.n_features())
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "input has " + std::to_string(x.cols()) +
                                                          " features, the model expects " +
                                                          std::to_string(model_.n_features()));
  }

  svm::SvmModel model_;
  int n_jobs_ = 0;
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(RbfSvmModel)
