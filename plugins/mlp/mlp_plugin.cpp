// The MLP model plugin: SDK glue around Mlp.
#include "mlp.hpp"

#include <secmlops/models/params.hpp>
#include <secmlops/sdk/plugin.hpp>

namespace secmlops::plugins::mlp {
namespace {

class MlpPlugin : public sdk::Model {
 public:
  static constexpr const char* name = "mlp";
  static constexpr const char* version = "1.0.0";
  static constexpr const char* description =
      "multi-layer perceptron (ReLU, softmax, Adam, mini-batches), cross-entropy input gradients, "
      "ONNX MatMul/Add/Relu/Softmax";
  static constexpr const char* license = "Apache-2.0";
  static constexpr secmlops_option options[] = {
      sdk::option(SECMLOPS_OPTION_STRING, "hidden_layer_sizes",
                  "comma-separated widths of the hidden layers", "100"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "alpha", "L2 penalty", "0.0001"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "learning_rate_init", "Adam's learning rate", "0.001"),
      sdk::option(SECMLOPS_OPTION_INT, "max_iter", "epochs at most", "200"),
      sdk::option(SECMLOPS_OPTION_INT, "batch_size", "rows per mini-batch (0: min(200, rows))",
                  "0"),
      sdk::option(SECMLOPS_OPTION_INT, "seed", "random seed", "0"),
      sdk::option(SECMLOPS_OPTION_DOUBLE, "tol", "improvement that counts as progress", "0.0001"),
      sdk::option(SECMLOPS_OPTION_INT, "n_iter_no_change",
                  "epochs without progress before stopping", "10")};

  explicit MlpPlugin(const sdk::Config&) {}

  void fit(sdk::Job& job, const sdk::Matrix& x, std::span<const int32_t> y,
           const sdk::Config& config) {
    models::Params p(config, options);
    Options o;
    o.hidden_layer_sizes = p.int_list("hidden_layer_sizes", {100}, 1, 100000);
    o.alpha = p.positive("alpha", 1e-4, true);
    o.learning_rate_init = p.positive("learning_rate_init", 1e-3);
    o.max_iter = static_cast<int>(p.integer("max_iter", 200, 1, 1000000));
    o.batch_size = p.integer("batch_size", 0, 0, INT64_MAX);
    o.seed = static_cast<uint64_t>(p.integer("seed", 0, 0, INT64_MAX));
    o.tol = p.positive("tol", 1e-4, true);
    o.n_iter_no_change = static_cast<int>(p.integer("n_iter_no_change", 10, 1, 1000000));
    models::check_finite(x, "training data");
    uint64_t params = 0, width = x.cols();
    for (int64_t h : o.hidden_layer_sizes)
      params += width * static_cast<uint64_t>(h), width = static_cast<uint64_t>(h);
    if (params > (1ull << 28))
      throw sdk::Error(SECMLOPS_ERR_LIMIT, "mlp: more than 2^28 weights requested");
    net_.fit(models::as_eigen(x), y, o, [&](int epoch, double loss) {
      job.metric("loss", loss, epoch);
      return !job.cancelled();
    });
    job.check_cancelled();
  }

  sdk::ModelInfo info() const {
    if (!net_.fitted()) throw sdk::Error(SECMLOPS_ERR_STATE, "mlp: model is not fitted");
    return {net_.n_features(), net_.n_classes(), true};
  }

  void predict_proba(sdk::Job&, const sdk::Matrix& x, double* out) const {
    check_input(x);
    net_.predict_proba(models::as_eigen(x), models::output_map(out, x.rows(), net_.n_classes()));
  }

  void loss_gradient(sdk::Job&, const sdk::Matrix& x, const int32_t* y, double* out) const {
    check_input(x);
    if (y == nullptr && x.rows() > 0)
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels are NULL");
    for (uint64_t i = 0; i < x.rows(); ++i)
      if (y[i] < 0 || static_cast<uint32_t>(y[i]) >= net_.n_classes())
        throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "label " + std::to_string(y[i]) +
                                                            " of row " + std::to_string(i) +
                                                            " is not a class index");
    net_.loss_gradient(models::as_eigen(x), y, models::output_map(out, x.rows(), x.cols()));
  }

  void describe(sdk::Job& job) const {
    info();
    double params = 0, norm2 = 0;
    std::string sizes = std::to_string(net_.n_features());
    for (const auto& l : net_.layers()) {
      params += static_cast<double>(l.w.size() + l.b.size());
      norm2 += l.w.squaredNorm();
      sizes += "-" + std::to_string(l.w.cols());
    }
    job.metric("n_features", static_cast<double>(net_.n_features()));
    job.metric("n_classes", net_.n_classes());
    job.metric("parameters", params);
    job.metric("n_layers", static_cast<double>(net_.layers().size()));
    job.metric("hidden_layers", static_cast<double>(net_.layers().size() - 1));
    job.metric("weights_l2_norm", std::sqrt(norm2));
    if (net_.stats().epochs >= 0) {
      job.metric("epochs", net_.stats().epochs);
      job.metric("final_training_loss", net_.stats().final_loss);
      job.metric("converged", net_.stats().converged ? 1 : 0);
    }
    job.property("layer_sizes", sizes);
    job.property("activation", "relu");
    job.property("solver", "adam");
    job.property("solver_status", net_.stats().reason);
  }

  std::vector<uint8_t> export_onnx(sdk::Job&) const {
    info();
    return net_.to_onnx();
  }

  void import_onnx(sdk::Job&, sdk::Bytes bytes) { net_ = Mlp::from_onnx(bytes); }

 private:
  void check_input(const sdk::Matrix& x) const {
    info();
    if (x.cols() != net_.n_features())
      throw sdk::Error(SECMLOPS_ERR_INVALID_ARGUMENT, "input has " + std::to_string(x.cols()) +
                                                          " features, the model expects " +
                                                          std::to_string(net_.n_features()));
  }

  Mlp net_;
};

}  // namespace
}  // namespace secmlops::plugins::mlp

SECMLOPS_EXPORT_PLUGINS(secmlops::plugins::mlp::MlpPlugin)
