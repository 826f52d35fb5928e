#include "norms.hpp"

#include <algorithm>
#include <cmath>

namespace secmlops::plugins::attacks {

Labels Oracle::predict(const RowMatrix& x) {
  RowMatrix p;
  predict_proba(x, p);
  Labels out(static_cast<size_t>(p.rows()));
  for (Eigen::Index r = 0; r < p.rows(); ++r) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < p.cols(); ++c)
      if (p(r, c) > p(r, best)) best = c;
    out[static_cast<size_t>(r)] = static_cast<int32_t>(best);
  }
  return out;
}

namespace {

// A scalar (size 1) or per-feature bound expanded to d values; empty stays empty (unbounded).
Eigen::VectorXd expand(const Eigen::VectorXd& v, Eigen::Index d) {
  if (v.size() == 1) return Eigen::VectorXd::Constant(d, v[0]);
  return v;
}

// Lower bound first, then upper bound, as ART's np.clip and our earlier passes did.
void clip_row(double* x, const Eigen::VectorXd& lo, const Eigen::VectorXd& hi, Eigen::Index d) {
  if (lo.size() > 0)
    for (Eigen::Index j = 0; j < d; ++j) x[j] = std::max(x[j], lo[j]);
  if (hi.size() > 0)
    for (Eigen::Index j = 0; j < d; ++j) x[j] = std::min(x[j], hi[j]);
}

double l2_norm(const double* v, Eigen::Index d) { return Eigen::Map<const Eigen::RowVectorXd>(v, d).norm(); }

}  // namespace

StepKernel::StepKernel(const GradientAttackOptions& o, const Eigen::VectorXd& eps, const Eigen::VectorXd& step,
                       Eigen::Index d)
    : norm_(o.norm), targeted_(o.targeted), d_(d), step_(step), eps_(eps), lo_(expand(o.clip_min, d)),
      hi_(expand(o.clip_max, d)) {
  for (Eigen::Index j = 0; j < o.mask.size(); ++j)
    if (o.mask[j] == 0.0) immutable_.push_back(j);
}

void StepKernel::direction(double* g) const {
  const Eigen::Index d = d_;
  for (Eigen::Index j = 0; j < d; ++j) {
    double v = targeted_ ? -g[j] : g[j];
    g[j] = std::isnan(v) ? 0.0 : v;
  }
  for (auto j : immutable_) g[j] = 0.0;
  switch (norm_) {
    case Norm::Inf:
      for (Eigen::Index j = 0; j < d; ++j) g[j] = g[j] > 0 ? 1.0 : (g[j] < 0 ? -1.0 : 0.0);
      break;
    case Norm::L2: {
      const double n = l2_norm(g, d) + kTol;
      for (Eigen::Index j = 0; j < d; ++j) g[j] /= n;
      break;
    }
    case Norm::L1: {
      Eigen::Index best_j = 0;
      double best = -1;
      for (Eigen::Index j = 0; j < d; ++j)
        if (std::abs(g[j]) > best) {
          best = std::abs(g[j]);
          best_j = j;
        }
      const double s = g[best_j] > 0 ? 1.0 : (g[best_j] < 0 ? -1.0 : 0.0);
      std::fill(g, g + d, 0.0);
      g[best_j] = s;
      break;
    }
  }
}

void StepKernel::advance(double* x, const double* dir, const double* scale) const {
  if (scale == nullptr) scale = step_.data();
  for (Eigen::Index j = 0; j < d_; ++j) {
    const double s = dir[j] * scale[j];
    x[j] += std::isnan(s) ? 0.0 : s;
  }
  clip_row(x, lo_, hi_, d_);
}

void StepKernel::project(double* x, const double* x0) const {
  const Eigen::Index d = d_;
  const double* eps = eps_.data();
  switch (norm_) {
    case Norm::Inf:
      for (Eigen::Index j = 0; j < d; ++j) {
        const double delta = std::max(std::min(x[j] - x0[j], eps[j]), -eps[j]);
        x[j] = x0[j] + delta;
      }
      break;
    case Norm::L2:
    case Norm::L1: {
      // δ = x − x0 is recomputed rather than stored: the same value, no buffer.
      Eigen::Map<const Eigen::RowVectorXd> xv(x, d), x0v(x0, d);
      const double n = norm_ == Norm::L2 ? (xv - x0v).norm() : (xv - x0v).cwiseAbs().sum();
      // factor_j = min(1, eps_j / (‖δ‖ + tol)): a scalar eps is the plain rescale.
      for (Eigen::Index j = 0; j < d; ++j) x[j] = x0[j] + (x[j] - x0[j]) * std::min(eps[j] / (n + kTol), 1.0);
      break;
    }
  }
}

void StepKernel::step(RowMatrix& x, RowMatrix& g, const Eigen::Ref<const RowMatrix>& x0, bool project_ball,
                      const std::vector<bool>* frozen) const {
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    if (frozen != nullptr && (*frozen)[static_cast<size_t>(r)]) continue;
    double* xr = x.row(r).data();
    double* gr = g.row(r).data();
    direction(gr);
    advance(xr, gr);
    if (project_ball) project(xr, x0.row(r).data());
  }
}

void project(RowMatrix& x, const RowMatrix& x0, const Eigen::VectorXd& eps, Norm norm) {
  GradientAttackOptions o;
  o.norm = norm;
  StepKernel k(o, eps, eps, x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) k.project(x.row(r).data(), x0.row(r).data());
}

void random_init(RowMatrix& x, const Eigen::VectorXd& eps, const GradientAttackOptions& o, Rng& rng) {
  const Eigen::Index n = x.rows(), d = x.cols();
  RowMatrix pert(n, d);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  switch (o.norm) {
    case Norm::Inf:
      for (Eigen::Index r = 0; r < n; ++r)
        for (Eigen::Index c = 0; c < d; ++c) pert(r, c) = (2 * unit(rng) - 1) * eps[c];
      break;
    case Norm::L2: {
      // Uniform in the ball: a Gaussian direction and a radius distributed as U^(1/d) — the same
      // distribution as ART's random_sphere (which maps the chi-square CDF to U).
      std::normal_distribution<double> gauss(0.0, 1.0);
      for (Eigen::Index r = 0; r < n; ++r) {
        Eigen::RowVectorXd v(d);
        for (Eigen::Index c = 0; c < d; ++c) v[c] = gauss(rng);
        double radius = std::pow(unit(rng), 1.0 / static_cast<double>(d));
        v *= radius / std::max(v.norm(), 1e-300);
        pert.row(r) = v.array() * eps.transpose().array();
      }
      break;
    }
    case Norm::L1:
      // ART's random_sphere for L1: a total radius sqrt(U(0, r²)), split into d parts by sorted
      // uniform cut points, each part given a random sign.
      for (Eigen::Index r = 0; r < n; ++r) {
        double total = std::sqrt(unit(rng));  // × eps_j below
        std::vector<double> cuts(static_cast<size_t>(d + 1), 0.0);
        cuts[static_cast<size_t>(d)] = total;
        for (Eigen::Index c = 1; c < d; ++c) cuts[static_cast<size_t>(c)] = unit(rng) * total;
        std::sort(cuts.begin() + 1, cuts.end() - 1);
        for (Eigen::Index c = 0; c < d; ++c) {
          double sign = unit(rng) < 0.5 ? -1.0 : 1.0;
          pert(r, c) = (cuts[static_cast<size_t>(c + 1)] - cuts[static_cast<size_t>(c)]) * sign * eps[c];
        }
      }
      break;
  }
  if (o.mask.size() > 0)
    for (Eigen::Index c = 0; c < d; ++c) pert.col(c) *= o.mask[c];
  x += pert;
  const Eigen::VectorXd lo = expand(o.clip_min, d), hi = expand(o.clip_max, d);
  for (Eigen::Index r = 0; r < n; ++r) clip_row(x.row(r).data(), lo, hi, d);
}

std::vector<bool> success_array(Oracle& model, const Labels& clean_pred, const Labels& targets,
                                const RowMatrix& x_adv, bool targeted) {
  Labels adv = model.predict(x_adv);
  std::vector<bool> ok(adv.size());
  for (size_t i = 0; i < adv.size(); ++i)
    ok[i] = targeted ? adv[i] == targets[i] : adv[i] != clean_pred[i];
  return ok;
}

void draw_random_eps(GradientAttackOptions& o, Rng& rng) {
  const double ratio = o.eps_step / o.eps;
  const double sigma = o.eps / 2;
  std::normal_distribution<double> gauss(0.0, sigma);
  double e;
  do {
    e = gauss(rng);  // rejection sampling of the truncation [0, eps]
  } while (e < 0 || e > o.eps);
  e = std::round(e * 1e10) / 1e10;
  if (e <= 0) e = 1e-10;
  o.eps = e;
  o.eps_step = ratio * e;
}

}  // namespace secmlops::plugins::attacks
