#include "linear_svm.hpp"

#include <secmlops/models/params.hpp>

namespace secmlops::plugins::linear_svm {

using Eigen::Index;
using models::RowMatrix;
using models::Vector;

namespace {

// One binary problem, scaled by 1/(C n) so gradients do not grow with n:
//   f(θ) = ‖θ‖²/(2 C n) + (1/n) Σ_i max(0, 1 − t_i z_i)²   with θ = (w, b).
struct SquaredHinge {
  const ConstRowMap& x;
  Eigen::ArrayXd t;  // ±1
  double l2;         // 1/(C n)
  bool intercept;
  double operator()(const Vector& theta, Vector& grad) const {
    const Index d = x.cols();
    const double n = static_cast<double>(x.rows());
    Eigen::ArrayXd z = (x * theta.head(d)).array();
    if (intercept) z += theta(d);
    Eigen::ArrayXd slack = (1.0 - t * z).max(0.0);
    Eigen::ArrayXd r = (-2.0 / n) * t * slack;
    grad.head(d).noalias() = x.transpose() * r.matrix();
    grad.head(d) += l2 * theta.head(d);
    double reg = theta.head(d).squaredNorm();
    if (intercept) {
      grad(d) = r.sum() + l2 * theta(d);
      reg += theta(d) * theta(d);
    }
    return 0.5 * l2 * reg + slack.square().sum() / n;
  }
};

}  // namespace

void LinearSvm::fit(const ConstRowMap& x, std::span<const int32_t> y, const Options& o,
                    const models::IterationHook& hook) {
  const uint32_t k = models::count_classes(y);
  const Index d = x.cols();
  const Index problems = k == 2 ? 1 : static_cast<Index>(k);
  models::LinearModel m;
  m.n_classes = k;
  m.coef.resize(problems, d);
  m.intercept.resize(problems);
  models::LbfgsOptions lo;
  lo.max_iter = o.max_iter;
  lo.gtol = o.tol;
  solver_ = {};
  solver_.converged = true;
  margin_rows_ = 0;
  int done_iterations = 0;
  for (Index c = 0; c < problems; ++c) {
    const int32_t positive = k == 2 ? 1 : static_cast<int32_t>(c);
    SquaredHinge f{x, Eigen::ArrayXd(x.rows()), 1.0 / (o.C * static_cast<double>(x.rows())),
                   o.fit_intercept};
    for (Index i = 0; i < x.rows(); ++i)
      f.t(i) = y[static_cast<size_t>(i)] == positive ? 1.0 : -1.0;
    Vector theta = Vector::Zero(d + 1);
    auto r = models::lbfgs_minimize(std::cref(f), theta, lo, [&](int it, double obj) {
      return !hook || hook(done_iterations + it, obj);
    });
    done_iterations += r.iterations;
    solver_.iterations += r.iterations;
    solver_.evaluations += r.evaluations;
    solver_.objective += r.objective;
    solver_.grad_norm_inf = std::max(solver_.grad_norm_inf, r.grad_norm_inf);
    if (!r.converged) {
      solver_.converged = false;
      solver_.reason = "class " + std::to_string(c) + ": " + r.reason;
    }
    if (r.reason == "stopped") break;
    m.coef.row(c) = theta.head(d).transpose();
    m.intercept(c) = o.fit_intercept ? theta(d) : 0.0;
    Eigen::ArrayXd z = (x * theta.head(d)).array() + m.intercept(c);
    margin_rows_ += ((f.t * z) < 1.0).count();
  }
  if (solver_.converged) solver_.reason = "converged";
  models::round_to_float(m.coef);
  models::round_to_float(m.intercept);
  model_ = std::move(m);
}

void LinearSvm::predict_proba(const ConstRowMap& x, RowMap out) const {
  using models::kernels::LinearLink;
  model_.predict_proba(model_.binary() ? LinearLink::binary : LinearLink::softmax, x, out);
}

void LinearSvm::loss_gradient(const ConstRowMap& x, const int32_t* y, RowMap out) const {
  for (Index i = 0; i < x.rows(); ++i) {
    if (model_.binary())
      out.row(i) = (y[i] == 0 ? 1.0 : -1.0) * model_.coef.row(0);
    else
      out.row(i) = -model_.coef.row(y[i]);
  }
}

std::vector<uint8_t> LinearSvm::to_onnx() const {
  auto meta = models::solver_metadata(solver_);
  if (margin_rows_ >= 0) meta["secmlops.margin_rows"] = std::to_string(margin_rows_);
  return models::write_linear_classifier(model_, model_.binary() ? "LOGISTIC" : "SOFTMAX",
                                         "linear_svm", meta);
}

LinearSvm LinearSvm::from_onnx(sdk::Bytes bytes) {
  models::LinearGraph g = models::read_linear_graph(bytes);
  if (g.written_by) {
    // Our own files carry the probability link in the graph (LOGISTIC / SOFTMAX).
    if (*g.written_by != "linear_svm")
      models::unsupported("written by the " + *g.written_by + " model");
  } else if (g.post_transform != "NONE" || g.l1_normalized) {
    // A converter's linear SVM outputs raw decision values; probabilities mean another family.
    models::unsupported("scores with post-transform " + g.post_transform +
                        " are not a linear SVM's");
  }
  LinearSvm s;
  s.model_ = g.model;
  s.solver_ = models::solver_from_metadata(g.metadata);
  auto it = g.metadata.find("secmlops.margin_rows");
  s.margin_rows_ = it == g.metadata.end() ? -1 : models::parse_integer(it->second).value_or(-1);
  return s;
}

}  // namespace secmlops::plugins::linear_svm
