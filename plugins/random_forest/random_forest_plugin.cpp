// The random_forest model plugin: SDK glue around Forest (forest.hpp) and its ONNX mapping.
// No loss_gradient member: a forest is piecewise constant, so the plugin declares no gradient.
#include "forest.hpp"
#include "forest_onnx.hpp"

#include <secmlops/sdk/plugin.hpp>

namespace {

namespace sdk = secmlops::sdk;
namespace rf = secmlops::plugins::random_forest;

class RandomForestModel : public sdk::Model {
 public:
  static constexpr const char* name = "random_forest";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "Random forest of CART trees (Gini), parallel over trees; ONNX TreeEnsembleClassifier";
  // Fit parameters, the only keys accepted (the host refuses others before create and fit;
  // parse_params checks their ranges); n_jobs also as the instance's default.
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_INT, "n_estimators", "trees", "100"),
      sdk::option(SECMLOPS_OPTION_STRING, "max_depth", "deepest split level, or none", "none"),
      sdk::option(SECMLOPS_OPTION_INT, "min_samples_split", "rows a node needs to be split", "2"),
      sdk::option(SECMLOPS_OPTION_INT, "min_samples_leaf", "rows a leaf keeps at least", "1"),
      sdk::option(SECMLOPS_OPTION_STRING, "max_features",
                  "features tried per split: sqrt, log2, all, a count or a fraction", "sqrt"),
      sdk::option(SECMLOPS_OPTION_BOOL, "bootstrap", "draw each tree's rows with replacement",
                  "true"),
      sdk::option(SECMLOPS_OPTION_INT, "seed", "random seed", "0"),
      sdk::option(SECMLOPS_OPTION_INT, "random_state", "scikit-learn's name for seed", "0"),
      sdk::option(SECMLOPS_OPTION_INT, "n_jobs", "threads (0: every core)", "0"),
      sdk::option(SECMLOPS_OPTION_INT, "max_bins", "histogram bins per feature", "256")};

  explicit RandomForestModel(const sdk::Config& config)
      : n_jobs_(static_cast<int>(config.get_int("n_jobs", 0))), predict_jobs_(n_jobs_) {}

  void fit(sdk::Job& job, const sdk::Matrix& x, std::span<const int32_t> y,
           const sdk::Config& params) {
    rf::ForestParams p = rf::parse_params(params);
    if (!params.has("n_jobs")) p.n_jobs = n_jobs_;
    job.check_cancelled();
    forest_.fit(x.data(), x.rows(), x.cols(), y, p);
    predict_jobs_ = p.n_jobs;  // the fit's n_jobs, else the instance's
    const auto s = forest_.stats();
    job.log(SECMLOPS_LOG_INFO, "fitted " + std::to_string(s.trees) + " trees, " +
                                   std::to_string(s.nodes) + " nodes, max depth " +
                                   std::to_string(s.max_depth));
  }

  [[nodiscard]] sdk::ModelInfo info() const {
    return {forest_.n_features(), forest_.n_classes(), false};
  }

  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    forest_.predict_proba(x.data(), x.rows(), x.cols(), out, predict_jobs_);
  }

  void describe(sdk::Job& job) const {
    if (!forest_.fitted())
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "the random forest is not fitted");
    const auto s = forest_.stats();
    job.metric("trees", static_cast<double>(s.trees));
    job.metric("nodes", static_cast<double>(s.nodes));
    job.metric("leaves", static_cast<double>(s.leaves));
    job.metric("total_depth", static_cast<double>(s.total_depth));
    job.metric("mean_depth", s.mean_depth);
    job.metric("max_depth", s.max_depth);
    // Split nodes hold (feature, threshold); leaves hold one weight per class.
    job.metric("parameters",
               static_cast<double>(2 * (s.nodes - s.leaves) + s.leaves * forest_.n_classes()));
    job.property("model", "random_forest");
    job.property("onnx_operator", "ai.onnx.ml.TreeEnsembleClassifier");
  }

  std::vector<uint8_t> export_onnx(sdk::Job&) const { return rf::export_onnx(forest_); }
  void import_onnx(sdk::Job&, sdk::Bytes bytes) {
    forest_ = rf::import_onnx(bytes, n_jobs_);
    predict_jobs_ = n_jobs_;
  }

 private:
  rf::Forest forest_;
  int n_jobs_ = 0;        // instance configuration
  int predict_jobs_ = 0;  // threads for predict_proba
};

}  // namespace

SECMLOPS_EXPORT_PLUGINS(RandomForestModel)
