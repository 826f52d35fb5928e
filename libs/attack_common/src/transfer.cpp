#include "blackbox.hpp"
#include "gradient_attacks.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <cmath>

namespace secmlops::plugins::attacks {

using sdk::Error;

TransferOptions TransferOptions::from_config(const sdk::Config& c, uint64_t d) {
  TransferOptions o;
  o.attack = GradientAttackOptions::from_config(c, d);
  if (!c.has("max_iter")) o.attack.max_iter = 40;
  o.augment = static_cast<int>(c.get_int("augment", o.augment));
  o.noise = c.get_double("noise", o.noise);
  o.l2 = c.get_double("l2", o.l2);
  o.fit_iter = static_cast<int>(c.get_int("fit_iter", o.fit_iter));
  if (o.augment < 0 || o.augment > 1000 || !(o.noise >= 0) || !(o.l2 >= 0) || o.fit_iter < 1 ||
      o.fit_iter > 100000)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                "transfer needs 0<=augment<=1000, noise>=0, l2>=0, 1<=fit_iter<=100000");
  return o;
}

namespace {

// Multinomial logistic regression on standardised features, fitted with Adam (deterministic).
class Surrogate final : public Oracle {
 public:
  Surrogate(const RowMatrix& x, const Labels& y, uint32_t classes, double l2, int iters)
      : k_(classes) {
    const Eigen::Index n = x.rows(), d = x.cols();
    mu_ = x.colwise().mean();
    sd_ = ((x.rowwise() - mu_).array().square().colwise().sum() /
           std::max<double>(1, static_cast<double>(n)))
              .sqrt();
    sd_ = sd_.unaryExpr([](double v) { return v > 1e-12 ? v : 1.0; });
    RowMatrix z = standardise(x);
    RowMatrix onehot = RowMatrix::Zero(n, k_);
    for (Eigen::Index i = 0; i < n; ++i) onehot(i, y[static_cast<size_t>(i)]) = 1;
    w_ = RowMatrix::Zero(d, k_);
    b_ = Eigen::RowVectorXd::Zero(k_);
    RowMatrix mw = w_, vw = w_;
    Eigen::RowVectorXd mb = b_, vb = b_;
    const double lr = 0.05, b1 = 0.9, b2 = 0.999;
    for (int t = 1; t <= iters; ++t) {
      RowMatrix p = softmax(z * w_, b_);
      RowMatrix err = (p - onehot) / static_cast<double>(n);
      RowMatrix gw = z.transpose() * err + l2 * w_;
      Eigen::RowVectorXd gb = err.colwise().sum();
      mw = b1 * mw + (1 - b1) * gw;
      vw = b2 * vw + (1 - b2) * gw.cwiseProduct(gw);
      mb = b1 * mb + (1 - b1) * gb;
      vb = b2 * vb + (1 - b2) * gb.cwiseProduct(gb);
      const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
      w_.array() -= lr * (mw.array() / c1) / ((vw.array() / c2).sqrt() + 1e-8);
      b_.array() -= lr * (mb.array() / c1) / ((vb.array() / c2).sqrt() + 1e-8);
    }
  }
  [[nodiscard]] uint32_t n_classes() const override { return k_; }
  [[nodiscard]] bool has_gradient() const override { return true; }
  void predict_proba(const ConstRows& x, RowMatrix& out) override {
    out = softmax(standardise(x) * w_, b_);
  }
  void loss_gradient(const ConstRows& x, LabelSpan y, RowMatrix& out) override {
    RowMatrix p = softmax(standardise(x) * w_, b_);
    for (Eigen::Index i = 0; i < p.rows(); ++i) p(i, y[static_cast<size_t>(i)]) -= 1;
    out = p * w_.transpose();
    for (Eigen::Index r = 0; r < out.rows(); ++r) out.row(r).array() /= sd_.array();
  }

 private:
  RowMatrix standardise(const ConstRows& x) const {
    RowMatrix z = x.rowwise() - mu_;
    for (Eigen::Index r = 0; r < z.rows(); ++r) z.row(r).array() /= sd_.array();
    return z;
  }
  static RowMatrix softmax(const RowMatrix& logits, const Eigen::RowVectorXd& b) {
    RowMatrix s = logits.rowwise() + b;
    for (Eigen::Index r = 0; r < s.rows(); ++r) {
      s.row(r).array() -= s.row(r).maxCoeff();
      s.row(r) = s.row(r).array().exp();
      s.row(r) /= s.row(r).sum();
    }
    return s;
  }
  uint32_t k_;
  Eigen::RowVectorXd mu_, sd_, b_;
  RowMatrix w_;
};

}  // namespace

RowMatrix transfer_attack(Oracle& target, const RowMatrix& x, Labels y, const TransferOptions& o) {
  const Eigen::Index n = x.rows(), d = x.cols();
  if (o.attack.targeted && y.empty())
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "a targeted attack needs target labels");
  if (!y.empty() && y.size() != static_cast<size_t>(n))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels and samples differ in number");
  // Query the target on x and noisy copies of it: the surrogate learns the target's decisions
  // around the very points that will be attacked.
  Rng rng(o.attack.seed ^ 0x9e3779b97f4a7c15ULL);
  Eigen::RowVectorXd sd =
      ((x.rowwise() - x.colwise().mean()).array().square().colwise().mean()).sqrt();
  RowMatrix train(n * (1 + o.augment), d);
  train.topRows(n) = x;
  for (int a = 0; a < o.augment; ++a)
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index c = 0; c < d; ++c)
        train((a + 1) * n + i, c) = x(i, c) + o.noise * sd[c] * rng.normal();
  target.check_cancelled();
  Labels train_labels = target.predict(train);
  Surrogate surrogate(train, train_labels, target.n_classes(), o.l2, o.fit_iter);
  // Untargeted labels default to the target's own predictions, not the surrogate's.
  Labels labels = y.empty() ? Labels(train_labels.begin(), train_labels.begin() + n) : std::move(y);
  return o.attack.max_iter <= 1 ? fgsm(surrogate, x, labels, o.attack)
                                : pgd(surrogate, x, labels, o.attack);
}

}  // namespace secmlops::plugins::attacks
