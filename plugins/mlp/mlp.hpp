// Multi-layer perceptron classifier: ReLU hidden layers, a softmax output over the k classes,
// cross-entropy loss with an L2 penalty α/2·‖W‖² per mini-batch (divided by the batch size, as
// scikit-learn's MLPClassifier), trained with Adam on shuffled mini-batches. Initialisation and
// shuffling draw from models::Rng seeded with `seed`, so a seed gives the same network.
#pragma once

#include <secmlops/models/eigen.hpp>
#include <secmlops/models/lbfgs.hpp>

#include <functional>
#include <span>
#include <vector>

namespace secmlops::plugins::mlp {

namespace kernels {
struct DenseView;
}

using models::ConstRowMap;
using models::RowMap;
using models::RowMatrix;
using models::Vector;

struct Options {
  std::vector<int64_t> hidden_layer_sizes = {100};
  double alpha = 1e-4;
  double learning_rate_init = 1e-3;
  int max_iter = 200;      // epochs
  int64_t batch_size = 0;  // 0 = min(200, n)
  uint64_t seed = 0;
  double tol = 1e-4;
  int n_iter_no_change = 10;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-8;
};

struct Layer {
  RowMatrix w;  // inputs × outputs (scikit-learn's coefs_ layout)
  Vector b;     // outputs
};

struct TrainStats {
  int epochs = -1;  // -1: unknown (imported without statistics)
  double final_loss = 0;
  bool converged = false;
  std::string reason;
};

class Mlp {
 public:
  // `hook(epoch, loss)` returns false to cancel.
  void fit(const ConstRowMap& x, std::span<const int32_t> y, const Options& options,
           const std::function<bool(int, double)>& hook = {});
  void predict_proba(const ConstRowMap& x, RowMap out) const;
  // Gradient of the cross-entropy −log p_y(x) with respect to x, by back-propagation.
  void loss_gradient(const ConstRowMap& x, const int32_t* y, RowMap out) const;

  [[nodiscard]] std::vector<uint8_t> to_onnx() const;
  static Mlp from_onnx(sdk::Bytes bytes);

  [[nodiscard]] bool fitted() const { return !layers_.empty(); }
  [[nodiscard]] const std::vector<Layer>& layers() const { return layers_; }
  [[nodiscard]] uint64_t n_features() const {
    return layers_.empty() ? 0 : static_cast<uint64_t>(layers_[0].w.rows());
  }
  [[nodiscard]] uint32_t n_classes() const {
    return layers_.empty() ? 0 : static_cast<uint32_t>(layers_.back().w.cols());
  }
  [[nodiscard]] const TrainStats& stats() const { return stats_; }

 private:
  // The layers as the kernels read them (mlp_kernels.hpp).
  [[nodiscard]] std::vector<kernels::DenseView> views() const;
  void predict_block(const ConstRowMap& x, RowMap out) const;
  // Activations of every layer for a batch: acts[0] = x, acts[l+1] = layer l's output
  // (ReLU for hidden layers, softmax probabilities for the last).
  void forward(const ConstRowMap& x, std::vector<RowMatrix>& acts) const;

  std::vector<Layer> layers_;
  TrainStats stats_;
};

}  // namespace secmlops::plugins::mlp
