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

void normalise_direction(RowMatrix& g, Norm norm, const Eigen::VectorXd& mask) {
  g = g.unaryExpr([](double v) { return std::isnan(v) ? 0.0 : v; });
  if (mask.size() > 0)
    for (Eigen::Index c = 0; c < g.cols(); ++c)
      if (mask[c] == 0.0) g.col(c).setZero();
  switch (norm) {
    case Norm::Inf:
      g = g.array().sign();
      break;
    case Norm::L2: {
      Eigen::VectorXd n = g.rowwise().norm();
      for (Eigen::Index r = 0; r < g.rows(); ++r) g.row(r) /= (n[r] + kTol);
      break;
    }
    case Norm::L1:
      for (Eigen::Index r = 0; r < g.rows(); ++r) {
        Eigen::Index j = 0;
        double best = -1;
        for (Eigen::Index c = 0; c < g.cols(); ++c)
          if (std::abs(g(r, c)) > best) {
            best = std::abs(g(r, c));
            j = c;
          }
        double s = g(r, j) > 0 ? 1.0 : (g(r, j) < 0 ? -1.0 : 0.0);
        g.row(r).setZero();
        g(r, j) = s;
      }
      break;
  }
}

void clip_to_bounds(RowMatrix& x, const GradientAttackOptions& o) {
  if (o.clip_min.size() == 1) x = x.array().max(o.clip_min[0]);
  if (o.clip_max.size() == 1) x = x.array().min(o.clip_max[0]);
  if (o.clip_min.size() > 1)
    for (Eigen::Index r = 0; r < x.rows(); ++r) x.row(r) = x.row(r).cwiseMax(o.clip_min.transpose());
  if (o.clip_max.size() > 1)
    for (Eigen::Index r = 0; r < x.rows(); ++r) x.row(r) = x.row(r).cwiseMin(o.clip_max.transpose());
}

void apply_step(RowMatrix& x, const RowMatrix& direction, const Eigen::VectorXd& step,
                const GradientAttackOptions& o) {
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    auto s = (direction.row(r).array() * step.transpose().array()).unaryExpr([](double v) {
      return std::isnan(v) ? 0.0 : v;
    });
    x.row(r).array() += s;
  }
  clip_to_bounds(x, o);
}

void project(RowMatrix& x, const RowMatrix& x0, const Eigen::VectorXd& eps, Norm norm) {
  RowMatrix delta = x - x0;
  switch (norm) {
    case Norm::Inf:
      for (Eigen::Index r = 0; r < delta.rows(); ++r)
        delta.row(r) = delta.row(r).cwiseMin(eps.transpose()).cwiseMax(-eps.transpose());
      break;
    case Norm::L2:
    case Norm::L1: {
      Eigen::VectorXd n = norm == Norm::L2 ? Eigen::VectorXd(delta.rowwise().norm())
                                           : Eigen::VectorXd(delta.cwiseAbs().rowwise().sum());
      for (Eigen::Index r = 0; r < delta.rows(); ++r) {
        // factor_j = min(1, eps_j / (‖δ‖ + tol)): a scalar eps is the plain rescale.
        Eigen::RowVectorXd factor = (eps.array() / (n[r] + kTol)).min(1.0).transpose();
        delta.row(r).array() *= factor.array();
      }
      break;
    }
  }
  x = x0 + delta;
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
  clip_to_bounds(x, o);
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
