#include "blackbox.hpp"

#include <secmlops/sdk/plugin.hpp>

#include <algorithm>
#include <cmath>

namespace secmlops::plugins::attacks {

using sdk::Error;

HopSkipJumpOptions HopSkipJumpOptions::from_config(const sdk::Config& c, uint64_t d) {
  HopSkipJumpOptions o;
  o.norm = parse_norm(c.get_string("norm", "2"));
  if (o.norm == Norm::L1)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "hop-skip-jump supports norm 2 or inf");
  o.targeted = c.get_bool("targeted", false);
  o.max_iter = static_cast<int>(c.get_int("max_iter", o.max_iter));
  o.max_eval = static_cast<int>(c.get_int("max_eval", o.max_eval));
  o.init_eval = static_cast<int>(c.get_int("init_eval", o.init_eval));
  o.init_size = static_cast<int>(c.get_int("init_size", o.init_size));
  o.eps = c.get_double("eps", 0);
  o.seed = static_cast<uint64_t>(c.get_int("seed", 0));
  if (o.max_iter < 0 || o.max_iter > 10000 || o.max_eval < 1 || o.max_eval > 100000 ||
      o.init_eval < 1 || o.init_eval > o.max_eval || o.init_size < 1 || o.init_size > 100000 ||
      o.eps < 0)
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT,
                "hop-skip-jump needs 0<=max_iter<=10000, 1<=init_eval<=max_eval<=100000, "
                "1<=init_size, eps>=0");
  if (auto v = c.get("clip_min")) o.clip_min = parse_vector("clip_min", *v, d, true);
  if (auto v = c.get("clip_max")) o.clip_max = parse_vector("clip_max", *v, d, true);
  GradientAttackOptions g = GradientAttackOptions::from_config(c, d);
  o.mask = g.mask;
  return o;
}

namespace {

struct Bounds {
  Eigen::RowVectorXd lo, hi;
  void clip(RowMatrix& x) const {
    for (Eigen::Index r = 0; r < x.rows(); ++r) x.row(r) = x.row(r).cwiseMax(lo).cwiseMin(hi);
  }
};

Bounds make_bounds(const RowMatrix& x, const HopSkipJumpOptions& o) {
  Bounds b;
  const auto d = x.cols();
  auto expand = [&](const Eigen::VectorXd& v,
                    const Eigen::RowVectorXd& fallback) -> Eigen::RowVectorXd {
    if (v.size() == 0) return fallback;
    if (v.size() == 1) return Eigen::RowVectorXd::Constant(d, v[0]);
    return v.transpose();
  };
  b.lo = expand(o.clip_min, x.colwise().minCoeff());
  b.hi = expand(o.clip_max, x.colwise().maxCoeff());
  return b;
}

class Decision {
 public:
  Decision(Oracle& m, const Labels& y, bool targeted) : m_(m), y_(y), targeted_(targeted) {}
  // Is row r of `points` adversarial for sample owner[r]?
  std::vector<bool> operator()(const RowMatrix& points, const std::vector<Eigen::Index>& owner) {
    Labels p = m_.predict(points);
    std::vector<bool> out(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      int32_t y = y_[static_cast<size_t>(owner[i])];
      out[i] = targeted_ ? p[i] == y : p[i] != y;
    }
    return out;
  }

 private:
  Oracle& m_;
  const Labels& y_;
  bool targeted_;
};

// Moves each x_adv[i] onto the boundary between x[i] and x_adv[i] by bisection (lockstep).
void binary_search(Decision& adversarial, const RowMatrix& x, RowMatrix& x_adv,
                   const std::vector<Eigen::Index>& rows, double theta, Norm norm) {
  const size_t n = rows.size();
  if (n == 0) return;
  std::vector<double> lo(n, 0.0), hi(n, 1.0);
  // For L∞ the blend is a box projection of radius alpha·‖δ‖∞ (HSJ's project for L∞).
  std::vector<double> linf(n, 0.0);
  if (norm == Norm::Inf)
    for (size_t k = 0; k < n; ++k)
      linf[k] = (x_adv.row(rows[k]) - x.row(rows[k])).cwiseAbs().maxCoeff();
  auto blend = [&](size_t k, double a) -> Eigen::RowVectorXd {
    auto i = rows[k];
    if (norm == Norm::L2) return (1 - a) * x.row(i) + a * x_adv.row(i);
    double r = a * linf[k];
    Eigen::RowVectorXd lo = x.row(i).array() - r, hi = x.row(i).array() + r;
    return x_adv.row(i).cwiseMax(lo).cwiseMin(hi);
  };
  const double tol = theta;  // one stopping width for both norms (a is a fraction of the distance)
  for (int step = 0; step < 64; ++step) {
    std::vector<size_t> open;
    for (size_t k = 0; k < n; ++k)
      if (hi[k] - lo[k] > tol) open.push_back(k);
    if (open.empty()) break;
    RowMatrix mid(static_cast<Eigen::Index>(open.size()), x.cols());
    std::vector<Eigen::Index> owner(open.size());
    for (size_t j = 0; j < open.size(); ++j) {
      mid.row(static_cast<Eigen::Index>(j)) = blend(open[j], (lo[open[j]] + hi[open[j]]) / 2);
      owner[j] = rows[open[j]];
    }
    auto adv = adversarial(mid, owner);
    for (size_t j = 0; j < open.size(); ++j) {
      double m = (lo[open[j]] + hi[open[j]]) / 2;
      (adv[j] ? hi[open[j]] : lo[open[j]]) = m;
    }
  }
  for (size_t k = 0; k < n; ++k) x_adv.row(rows[k]) = blend(k, hi[k]);
}

}  // namespace

RowMatrix hop_skip_jump(Oracle& model, const RowMatrix& x, Labels y, const HopSkipJumpOptions& o) {
  const Eigen::Index n = x.rows(), d = x.cols();
  if (o.targeted && y.empty())
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "a targeted attack needs target labels");
  if (!y.empty() && y.size() != static_cast<size_t>(n))
    throw Error(SECMLOPS_ERR_INVALID_ARGUMENT, "labels and samples differ in number");
  Labels labels = y.empty() ? model.predict(x) : std::move(y);
  Decision adversarial(model, labels, o.targeted);
  Bounds bounds = make_bounds(x, o);
  Rng rng(o.seed);
  Eigen::RowVectorXd mask =
      o.mask.size() == d ? Eigen::RowVectorXd(o.mask.transpose()) : Eigen::RowVectorXd::Ones(d);
  const double range = std::max(1e-12, (bounds.hi - bounds.lo).maxCoeff());
  const double theta =
      (o.norm == Norm::L2 ? 1.0 / (static_cast<double>(d) * std::sqrt(static_cast<double>(d)))
                          : 1.0 / (static_cast<double>(d) * static_cast<double>(d)));

  // 1. Starting points: random draws inside the bounds (mutable features only) until adversarial.
  RowMatrix x_adv = x;
  std::vector<bool> found(static_cast<size_t>(n), false);
  {
    std::vector<Eigen::Index> open(static_cast<size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) open[static_cast<size_t>(i)] = i;
    for (int t = 0; t < o.init_size && !open.empty(); ++t) {
      model.check_cancelled();
      RowMatrix trial(static_cast<Eigen::Index>(open.size()), d);
      for (size_t k = 0; k < open.size(); ++k)
        for (Eigen::Index c = 0; c < d; ++c)
          trial(static_cast<Eigen::Index>(k), c) =
              mask[c] != 0 ? bounds.lo[c] + rng.uniform() * (bounds.hi[c] - bounds.lo[c])
                           : x(open[k], c);
      auto adv = adversarial(trial, open);
      std::vector<Eigen::Index> still;
      for (size_t k = 0; k < open.size(); ++k) {
        if (adv[k]) {
          x_adv.row(open[k]) = trial.row(static_cast<Eigen::Index>(k));
          found[static_cast<size_t>(open[k])] = true;
        } else {
          still.push_back(open[k]);
        }
      }
      open.swap(still);
    }
  }
  std::vector<Eigen::Index> active;
  for (Eigen::Index i = 0; i < n; ++i)
    if (found[static_cast<size_t>(i)]) active.push_back(i);
  binary_search(adversarial, x, x_adv, active, theta * range, o.norm);

  // 2. Walk along the boundary: estimate the gradient of the decision at the boundary point, step,
  //    then bisect back to the boundary.
  for (int t = 1; t <= o.max_iter && !active.empty(); ++t) {
    model.check_cancelled();
    const int evals =
        std::min(o.max_eval, static_cast<int>(o.init_eval * std::sqrt(static_cast<double>(t))));
    RowMatrix update(static_cast<Eigen::Index>(active.size()), d);
    std::vector<double> dist(active.size());
    for (size_t k = 0; k < active.size(); ++k) {
      auto diff = x_adv.row(active[k]) - x.row(active[k]);
      dist[k] = o.norm == Norm::L2 ? diff.norm() : diff.cwiseAbs().maxCoeff();
    }
    for (size_t start = 0; start < active.size(); start += o.chunk) {
      const size_t end = std::min(active.size(), start + o.chunk);
      const auto rows = static_cast<Eigen::Index>((end - start) * static_cast<size_t>(evals));
      RowMatrix probes(rows, d), dirs(rows, d);
      std::vector<Eigen::Index> owner(static_cast<size_t>(rows));
      for (size_t k = start; k < end; ++k) {
        const double delta = t == 1 ? 0.1 * range
                                    : (o.norm == Norm::L2 ? std::sqrt(static_cast<double>(d))
                                                          : static_cast<double>(d)) *
                                          theta * dist[k];
        for (int e = 0; e < evals; ++e) {
          auto r = static_cast<Eigen::Index>((k - start) * static_cast<size_t>(evals) +
                                             static_cast<size_t>(e));
          Eigen::RowVectorXd u(d);
          for (Eigen::Index c = 0; c < d; ++c)
            u[c] = (o.norm == Norm::L2 ? rng.normal() : 2 * rng.uniform() - 1) * mask[c];
          u /= std::max(u.norm(), 1e-300);
          dirs.row(r) = u;
          probes.row(r) = x_adv.row(active[k]) + delta * u;
          owner[static_cast<size_t>(r)] = active[k];
        }
      }
      bounds.clip(probes);
      auto adv = adversarial(probes, owner);
      for (size_t k = start; k < end; ++k) {
        const auto base = static_cast<Eigen::Index>((k - start) * static_cast<size_t>(evals));
        double mean = 0;
        for (int e = 0; e < evals; ++e) mean += adv[static_cast<size_t>(base + e)] ? 1.0 : -1.0;
        mean /= evals;
        Eigen::RowVectorXd g = Eigen::RowVectorXd::Zero(d);
        for (int e = 0; e < evals; ++e) {
          double f = adv[static_cast<size_t>(base + e)] ? 1.0 : -1.0;
          // Baseline subtraction reduces the variance, unless all answers agree.
          g += (std::abs(mean) == 1.0 ? f : f - mean) * dirs.row(base + e);
        }
        g /= evals;
        if (o.norm == Norm::Inf)
          g = g.array().sign();
        else
          g /= std::max(g.norm(), 1e-300);
        update.row(static_cast<Eigen::Index>(k)) = g;
      }
    }
    // Geometric step-size search: halve until the stepped point is still adversarial.
    std::vector<double> size(active.size());
    for (size_t k = 0; k < active.size(); ++k)
      size[k] = dist[k] / std::sqrt(static_cast<double>(t));
    std::vector<size_t> open(active.size());
    for (size_t k = 0; k < active.size(); ++k) open[k] = k;
    RowMatrix stepped = x_adv;
    for (int halving = 0; halving < 30 && !open.empty(); ++halving) {
      RowMatrix trial(static_cast<Eigen::Index>(open.size()), d);
      std::vector<Eigen::Index> owner(open.size());
      for (size_t j = 0; j < open.size(); ++j) {
        trial.row(static_cast<Eigen::Index>(j)) =
            x_adv.row(active[open[j]]) +
            size[open[j]] * update.row(static_cast<Eigen::Index>(open[j]));
        owner[j] = active[open[j]];
      }
      bounds.clip(trial);
      auto adv = adversarial(trial, owner);
      std::vector<size_t> still;
      for (size_t j = 0; j < open.size(); ++j) {
        if (adv[j])
          stepped.row(active[open[j]]) = trial.row(static_cast<Eigen::Index>(j));
        else {
          size[open[j]] /= 2;
          still.push_back(open[j]);
        }
      }
      open.swap(still);
    }
    x_adv = stepped;
    binary_search(adversarial, x, x_adv, active, theta * range, o.norm);
  }

  // Optional budget: project onto the eps ball (the result may then no longer be adversarial).
  if (o.eps > 0) {
    Eigen::VectorXd eps = Eigen::VectorXd::Constant(d, o.eps);
    project(x_adv, x, eps, o.norm);
  }
  for (Eigen::Index c = 0; c < d; ++c)
    if (mask[c] == 0) x_adv.col(c) = x.col(c);
  return x_adv;
}

}  // namespace secmlops::plugins::attacks
