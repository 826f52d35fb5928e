#include "logreg.hpp"

#include <secmlops/models/parallel.hpp>
#include <secmlops/models/params.hpp>

#include <cmath>

namespace secmlops::plugins::logreg {

using Eigen::Index;
using models::RowMatrix;
using models::Vector;

const char* link_name(LogisticRegression::Link link) {
  switch (link) {
    case LogisticRegression::Link::Binary:
      return "binary";
    case LogisticRegression::Link::Multinomial:
      return "multinomial";
    case LogisticRegression::Link::OneVsRest:
      return "ovr";
  }
  return "?";
}

namespace {

// The objective is scaled by 1/n (mean loss + ‖W‖²/(2Cn)): the same minimiser as
// scikit-learn's, with gradients whose size does not grow with n. Loss and gradient are sums
// over rows: large sets are summed in fixed row blocks over the cores (models::row_blocks), on
// the module's shared threads: an evaluation never waits for a thread that another busy thread
// (the dataset record beside the fit) keeps from waking, the caller then takes its blocks.
// f.partial(rows, first_row, theta, grad) returns the unscaled loss of a block of rows and adds
// their unscaled gradient into grad.
template <class Objective>
double blocked_objective(const Objective& f, const Vector& theta, Vector& grad) {
  const ConstRowMap& x = f.x;
  const auto blocks = models::row_blocks(static_cast<size_t>(x.rows()));
  std::vector<Vector> g(blocks.count, Vector::Zero(grad.size()));
  std::vector<double> loss(blocks.count, 0.0);
  f.pool.run(blocks.count, [&](size_t b) {
    const Index from = static_cast<Index>(blocks.begin(b));
    const Index rows = static_cast<Index>(blocks.size(b, static_cast<size_t>(x.rows())));
    loss[b] = f.partial(ConstRowMap(x.data() + from * x.cols(), rows, x.cols()), from, theta, g[b]);
  });
  grad = g[0];
  double total = loss[0];
  for (size_t b = 1; b < blocks.count; ++b) grad += g[b], total += loss[b];
  return total;
}

struct BinaryObjective {
  models::SharedPool& pool;
  const ConstRowMap& x;
  Eigen::ArrayXd y;  // 0/1
  double l2;         // 1/(C n)
  bool intercept;
  // Σ over the block's rows of the loss; their gradient added into `grad` (both unscaled).
  double partial(const ConstRowMap& xb, Index from, const Vector& theta, Vector& grad) const {
    // Rows go in tiles that stay in L1 between the forward product and the gradient product,
    // so the block is read from memory once per evaluation instead of twice.
    constexpr Index kTile = 128;
    using TileArray = Eigen::Array<double, Eigen::Dynamic, 1, 0, kTile, 1>;
    const Index d = xb.cols();
    double loss = 0;
    for (Index t = 0; t < xb.rows(); t += kTile) {
      const Index m = std::min(kTile, xb.rows() - t);
      const auto xt = xb.middleRows(t, m);
      const auto yt = y.segment(from + t, m);
      TileArray z = (xt * theta.head(d)).array();
      if (intercept) z += theta(d);
      // softplus(z) − y z = max(z, 0) + log(1 + e^−|z|) − y z, without overflow; e^−|z| also
      // gives σ(z) (= 1/(1+e) for z ≥ 0, e/(1+e) otherwise), so one exp per row serves both.
      const TileArray e = (-z.abs()).exp();
      const TileArray one_plus = 1.0 + e;
      loss += (z.max(0.0) + one_plus.log() - yt * z).sum();
      // σ(z) = 1/(1+e) for z ≥ 0 and 1 − 1/(1+e) otherwise, written with copysign so the
      // compiler vectorises it (Eigen evaluates select() one coefficient at a time).
      TileArray r(m);
      const double *zp = z.data(), *op = one_plus.data(), *yp = yt.data();
      double* rp = r.data();
      for (Index i = 0; i < m; ++i) rp[i] = 0.5 + std::copysign(1.0 / op[i] - 0.5, zp[i]) - yp[i];
      grad.head(d).noalias() += xt.transpose() * r.matrix();
      if (intercept) grad(d) += r.sum();
    }
    return loss;
  }
  double operator()(const Vector& theta, Vector& grad) const {
    const Index d = x.cols();
    const double n = static_cast<double>(x.rows());
    const double loss = blocked_objective(*this, theta, grad);
    grad /= n;
    grad.head(d) += l2 * theta.head(d);
    return loss / n + 0.5 * l2 * theta.head(d).squaredNorm();
  }
};

struct MultinomialObjective {
  models::SharedPool& pool;
  const ConstRowMap& x;
  RowMatrix y;  // one-hot n × k
  double l2;
  bool intercept;
  double partial(const ConstRowMap& xb, Index from, const Vector& theta, Vector& grad) const {
    const Index d = xb.cols(), k = y.cols();
    const auto yb = y.middleRows(from, xb.rows());
    Eigen::Map<const RowMatrix> w(theta.data(), k, d);
    RowMatrix z = xb * w.transpose();
    if (intercept) z.rowwise() += theta.segment(k * d, k).transpose();
    Eigen::ArrayXd zmax = z.rowwise().maxCoeff().array();
    RowMatrix p = (z.colwise() - zmax.matrix()).array().exp().matrix();
    Eigen::ArrayXd s = p.rowwise().sum().array();
    // Σ_i logsumexp(z_i) − z_i,y_i
    const double loss = (zmax + s.log()).sum() - (z.array() * yb.array()).sum();
    p.array().colwise() /= s;
    p -= yb;
    Eigen::Map<RowMatrix> gw(grad.data(), k, d);
    gw.noalias() += p.transpose() * xb;
    if (intercept) grad.segment(k * d, k) += p.colwise().sum().transpose();
    return loss;
  }
  double operator()(const Vector& theta, Vector& grad) const {
    const Index d = x.cols(), k = y.cols();
    const double n = static_cast<double>(x.rows());
    const double loss = blocked_objective(*this, theta, grad);
    grad /= n;
    Eigen::Map<const RowMatrix> w(theta.data(), k, d);
    Eigen::Map<RowMatrix>(grad.data(), k, d) += l2 * w;
    return loss / n + 0.5 * l2 * w.squaredNorm();
  }
};

}  // namespace

void LogisticRegression::fit(const ConstRowMap& x, std::span<const int32_t> y, const Options& o,
                             const models::IterationHook& hook) {
  const uint32_t k = models::count_classes(y);
  const Index d = x.cols();
  const double l2 = 1.0 / (o.C * static_cast<double>(x.rows()));
  models::LbfgsOptions lo;
  lo.max_iter = o.max_iter;
  lo.gtol = o.tol;
  models::LinearModel m;
  m.n_classes = k;
  models::SharedPool& pool = models::shared_pool();
  if (k == 2) {
    BinaryObjective f{pool, x, Eigen::ArrayXd(x.rows()), l2, o.fit_intercept};
    for (Index i = 0; i < x.rows(); ++i) f.y(i) = y[static_cast<size_t>(i)] == 1 ? 1.0 : 0.0;
    Vector theta = Vector::Zero(d + 1);
    solver_ = models::lbfgs_minimize(std::cref(f), theta, lo, hook);
    m.coef = theta.head(d).transpose();
    m.intercept = Vector::Constant(1, o.fit_intercept ? theta(d) : 0.0);
    link_ = Link::Binary;
  } else {
    MultinomialObjective f{pool, x, models::one_hot(y, k), l2, o.fit_intercept};
    Vector theta = Vector::Zero(static_cast<Index>(k) * (d + 1));
    solver_ = models::lbfgs_minimize(std::cref(f), theta, lo, hook);
    m.coef = Eigen::Map<const RowMatrix>(theta.data(), k, d);
    m.intercept = o.fit_intercept ? Vector(theta.segment(k * d, k)) : Vector::Zero(k);
    link_ = Link::Multinomial;
  }
  models::round_to_float(m.coef);
  models::round_to_float(m.intercept);
  model_ = std::move(m);
}

void LogisticRegression::predict_proba(const ConstRowMap& x, RowMap out) const {
  using models::kernels::LinearLink;
  model_.predict_proba(link_ == Link::Binary        ? LinearLink::binary
                       : link_ == Link::Multinomial ? LinearLink::softmax
                                                    : LinearLink::one_vs_rest,
                       x, out);
}

void LogisticRegression::loss_gradient(const ConstRowMap& x, const int32_t* y, RowMap out) const {
  const Index n = x.rows();
  if (link_ == Link::Binary) {
    // d/dx [softplus(z) − y z] = (σ(z) − y) w
    Eigen::ArrayXd z = (x * model_.coef.row(0).transpose()).array() + model_.intercept(0);
    Eigen::ArrayXd r = 1.0 / (1.0 + (-z).exp());
    for (Index i = 0; i < n; ++i) r(i) -= y[i] == 1 ? 1.0 : 0.0;
    out.noalias() = r.matrix() * model_.coef.row(0);
    return;
  }
  RowMatrix g(n, model_.coef.rows());
  predict_proba(x, RowMap(g.data(), n, g.cols()));
  if (link_ == Link::Multinomial) {
    // d/dz [logsumexp(z) − z_y] = softmax(z) − e_y
    for (Index i = 0; i < n; ++i) g(i, y[i]) -= 1.0;
  } else {
    // p_k = σ_k / S: d/dz_k [−log p_y] = σ_k(1 − σ_k)/S − [k = y](1 − σ_y)
    RowMatrix z = model_.decision(x);
    for (Index i = 0; i < n; ++i) {
      double s = 0;
      for (Index c = 0; c < z.cols(); ++c) s += models::sigmoid(z(i, c));
      for (Index c = 0; c < z.cols(); ++c) {
        double sc = models::sigmoid(z(i, c));
        g(i, c) = sc * (1 - sc) / s - (c == y[i] ? 1 - sc : 0.0);
      }
    }
  }
  out.noalias() = g * model_.coef;
}

std::vector<uint8_t> LogisticRegression::to_onnx() const {
  if (link_ == Link::OneVsRest)
    throw sdk::Error(SECMLOPS_ERR_UNSUPPORTED,
                     "export of one-vs-rest logistic regression is not implemented");
  return models::write_linear_classifier(model_, link_ == Link::Binary ? "LOGISTIC" : "SOFTMAX",
                                         "logreg", models::solver_metadata(solver_));
}

LogisticRegression LogisticRegression::from_onnx(sdk::Bytes bytes) {
  models::LinearGraph g = models::read_linear_graph(bytes);
  if (g.written_by && *g.written_by != "logreg")
    models::unsupported("written by the " + *g.written_by + " model");
  LogisticRegression lr;
  const auto& m = g.model;
  if (m.binary()) {
    if (g.post_transform != "LOGISTIC")
      models::unsupported("two-class scores without a logistic link");
    lr.link_ = Link::Binary;
  } else if (g.post_transform == "SOFTMAX") {  // a Normalizer(L1) after softmax changes nothing
    lr.link_ = Link::Multinomial;
  } else if (g.post_transform == "LOGISTIC" && g.l1_normalized) {
    lr.link_ = Link::OneVsRest;
  } else {
    models::unsupported("scores with post-transform " + g.post_transform +
                        " are not logistic regression");
  }
  lr.model_ = g.model;
  lr.solver_ = models::solver_from_metadata(g.metadata);
  return lr;
}

}  // namespace secmlops::plugins::logreg
