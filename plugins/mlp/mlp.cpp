#include "mlp.hpp"
#include "mlp_kernels.hpp"

#include <secmlops/models/parallel.hpp>
#include <secmlops/models/params.hpp>
#include <secmlops/models/rng.hpp>

#include <cmath>
#include <limits>
#include <numeric>

namespace secmlops::plugins::mlp {

using Eigen::Index;

void Mlp::forward(const ConstRowMap& x, std::vector<RowMatrix>& acts) const {
  acts.resize(layers_.size() + 1);
  acts[0] = x;
  for (size_t l = 0; l < layers_.size(); ++l) {
    RowMatrix& a = acts[l + 1];
    a.noalias() = acts[l] * layers_[l].w;
    a.rowwise() += layers_[l].b.transpose();
    if (l + 1 < layers_.size())
      a = a.cwiseMax(0.0);
    else
      models::softmax_rows(a);
  }
}

void Mlp::predict_proba(const ConstRowMap& x, RowMap out) const {
  // Rows are independent: large batches are split in blocks over the cores, small ones stay on
  // the caller's thread (starting a thread costs more than a few hundred rows of inference).
  constexpr Index kBlock = 2048;
  const Index n = x.rows();
  const size_t blocks = static_cast<size_t>((n + kBlock - 1) / kBlock);
  models::parallel_for(blocks, models::resolve_jobs(0, blocks), [&](size_t b) {
    const Index from = static_cast<Index>(b) * kBlock, rows = std::min(kBlock, n - from);
    predict_block(ConstRowMap(x.data() + from * x.cols(), rows, x.cols()),
                  RowMap(out.data() + from * out.cols(), rows, out.cols()));
  });
}

std::vector<kernels::DenseView> Mlp::views() const {
  std::vector<kernels::DenseView> v;
  for (const Layer& l : layers_) v.push_back({l.w.data(), l.b.data(), l.w.rows(), l.w.cols()});
  return v;
}

void Mlp::predict_block(const ConstRowMap& x, RowMap out) const {
  using namespace kernels;
  const auto layers = views();
  SECMLOPS_DISPATCH(predict)(layers.data(), layers.size(), x.data(), x.rows(), out.data());
}

void Mlp::loss_gradient(const ConstRowMap& x, const int32_t* y, RowMap out) const {
  using namespace kernels;
  const auto layers = views();
  SECMLOPS_DISPATCH(loss_gradient)(layers.data(), layers.size(), x.data(), y, x.rows(), out.data());
}

void Mlp::fit(const ConstRowMap& x, std::span<const int32_t> y, const Options& o,
              const std::function<bool(int, double)>& hook) {
  const uint32_t k = models::count_classes(y);
  const Index n = x.rows(), d = x.cols();
  models::Rng rng(o.seed);
  // Glorot-uniform initialisation as scikit-learn does for ReLU networks:
  // U(±sqrt(6 / (fan_in + fan_out))) for weights and biases.
  std::vector<Index> sizes{d};
  for (int64_t h : o.hidden_layer_sizes) sizes.push_back(static_cast<Index>(h));
  sizes.push_back(static_cast<Index>(k));
  layers_.clear();
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    double bound = std::sqrt(6.0 / static_cast<double>(sizes[l] + sizes[l + 1]));
    Layer layer{RowMatrix(sizes[l], sizes[l + 1]), Vector(sizes[l + 1])};
    for (Index i = 0; i < layer.w.size(); ++i) layer.w.data()[i] = rng.uniform(-bound, bound);
    for (Index i = 0; i < layer.b.size(); ++i) layer.b(i) = rng.uniform(-bound, bound);
    layers_.push_back(std::move(layer));
  }
  // Adam state.
  std::vector<Layer> m1 = layers_, m2 = layers_, grads = layers_;
  for (auto* state : {&m1, &m2})
    for (auto& l : *state) l.w.setZero(), l.b.setZero();
  const Index batch = o.batch_size > 0 ? std::min<Index>(o.batch_size, n) : std::min<Index>(200, n);
  std::vector<Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::vector<RowMatrix> acts;
  RowMatrix xb, yb;
  double best = std::numeric_limits<double>::infinity();
  int no_improvement = 0;
  int64_t t = 0;
  stats_ = {};
  stats_.reason = "max_iter reached";
  for (int epoch = 1; epoch <= o.max_iter; ++epoch) {
    rng.shuffle(order);
    double loss_sum = 0;
    for (Index start = 0; start < n; start += batch) {
      const Index bn = std::min(batch, n - start);
      xb.resize(bn, d);
      yb.setZero(bn, k);
      for (Index i = 0; i < bn; ++i) {
        Index r = order[static_cast<size_t>(start + i)];
        xb.row(i) = x.row(r);
        yb(i, y[static_cast<size_t>(r)]) = 1.0;
      }
      forward(ConstRowMap(xb.data(), bn, d), acts);
      const RowMatrix& p = acts.back();
      double ce = -(yb.array() * p.array().max(1e-300).log()).sum();
      double reg = 0;
      for (const auto& l : layers_) reg += l.w.squaredNorm();
      loss_sum += ce + 0.5 * o.alpha * reg;  // per-batch mean × bn, summed over the epoch
      // Back-propagation of the mean loss over the batch.
      RowMatrix delta = (p - yb) / static_cast<double>(bn);
      for (size_t l = layers_.size(); l-- > 0;) {
        grads[l].w.noalias() = acts[l].transpose() * delta;
        grads[l].w += (o.alpha / static_cast<double>(bn)) * layers_[l].w;
        grads[l].b = delta.colwise().sum().transpose();
        if (l > 0) {
          RowMatrix back = delta * layers_[l].w.transpose();
          back.array() *= (acts[l].array() > 0.0).cast<double>();
          delta.swap(back);
        }
      }
      ++t;
      const double lr = o.learning_rate_init *
                        std::sqrt(1 - std::pow(o.beta_2, static_cast<double>(t))) /
                        (1 - std::pow(o.beta_1, static_cast<double>(t)));
      for (size_t l = 0; l < layers_.size(); ++l) {
        m1[l].w = o.beta_1 * m1[l].w + (1 - o.beta_1) * grads[l].w;
        m2[l].w = o.beta_2 * m2[l].w + (1 - o.beta_2) * grads[l].w.cwiseAbs2();
        layers_[l].w.array() -= lr * m1[l].w.array() / (m2[l].w.array().sqrt() + o.epsilon);
        m1[l].b = o.beta_1 * m1[l].b + (1 - o.beta_1) * grads[l].b;
        m2[l].b = o.beta_2 * m2[l].b + (1 - o.beta_2) * grads[l].b.cwiseAbs2();
        layers_[l].b.array() -= lr * m1[l].b.array() / (m2[l].b.array().sqrt() + o.epsilon);
      }
    }
    const double loss = loss_sum / static_cast<double>(n);
    stats_.epochs = epoch;
    stats_.final_loss = loss;
    if (hook && !hook(epoch, loss)) {
      stats_.reason = "stopped";
      break;
    }
    // scikit-learn's rule: stop when the training loss has not improved by tol for more than
    // n_iter_no_change consecutive epochs.
    no_improvement = loss > best - o.tol ? no_improvement + 1 : 0;
    best = std::min(best, loss);
    if (no_improvement > o.n_iter_no_change) {
      stats_.converged = true;
      stats_.reason = "training loss did not improve by tol for " +
                      std::to_string(o.n_iter_no_change) + " epochs";
      break;
    }
  }
  for (auto& l : layers_) {
    models::round_to_float(l.w);
    models::round_to_float(l.b);
  }
}

}  // namespace secmlops::plugins::mlp
